"""The deadline projection: from the current sampling rate per site, which buildings and units
of a round will not be sampled by its deadline.

The model (`finish_times`, a pure function): each site works through the residents still to
be sampled in the buildings it serves, at the rate of its last hour of scans, serving the
buildings' queues side by side (the rate shared equally among the buildings not yet done, so
a building with few people left finishes early and the largest ones last). A building served
by k sites counts 1/k of its remaining residents in each site's queue and is done when the
last of its shares is. A building that no site serves, or whose sites scanned nobody in the
last hour, has no finish time.

`deadline_projection` reads the inputs (three grouped queries over the round's whole area:
residents at home and sampled per building, scans per site in the last hour; one more per
unit for the buildings listed) and lists the buildings and units of the user's view that
miss. Rates and loads are counted over the whole area, since a site's queue does not stop at
the edge of a user's scope; only the rows listed are narrowed to it."""

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from bastion.geo.models import Node, Presence, Resident, ZoneBuilding
from bastion.testing.rounds.models import Round, SiteArea
from bastion.testing.rounds.services import round_area_q
from bastion.testing.scans.models import Scan, ScanKind

RATE_WINDOW = dt.timedelta(hours=1)


LISTED = 100  # buildings listed at most


def finish_times(
    *,
    now: dt.datetime,
    rates: Mapping[int, float],
    remaining: Mapping[int, int],
    serving: Mapping[int, set[int]],
) -> dict[int, dt.datetime | None]:
    """{building: projected finish} from `rates` (site → residents sampled per hour),
    `remaining` (building → residents still to sample) and `serving` (building → sites).
    A building with nobody left finishes `now`; one that will never finish at these rates
    (no site, or no scan in the window) is None."""
    shares: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for building, left in remaining.items():
        sites = serving.get(building) or set()
        for site in sites:
            shares[site].append((left / len(sites), building))
    hours: dict[int, float | None] = {}  # building → hours until its last share is done
    for site, queue in shares.items():
        rate = rates.get(site, 0)
        queue.sort()
        elapsed, before = 0.0, 0.0
        for position, (share, building) in enumerate(queue):
            if rate <= 0:
                hours[building] = None
                continue
            # The queues still open share the site's rate equally.
            elapsed += (share - before) * (len(queue) - position) / rate
            before = share
            if hours.get(building, 0) is not None:
                hours[building] = max(hours.get(building, 0), elapsed)
    finish: dict[int, dt.datetime | None] = {}
    for building, left in remaining.items():
        if left <= 0:
            finish[building] = now
        elif not serving.get(building) or hours.get(building) is None:
            finish[building] = None
        else:
            finish[building] = now + dt.timedelta(minutes=math.ceil(hours[building] * 60))
    return finish


def misses(finish: dt.datetime | None, deadline: dt.datetime) -> bool:
    return finish is None or finish > deadline


@dataclass
class Late:
    """A building or unit projected to miss the deadline."""

    node: Node
    expected: int
    sampled: int
    finish: dt.datetime | None  # None: no site is sampling it now
    units: list["Late"] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return max(self.expected - self.sampled, 0)


@dataclass
class Projection:
    round: Round
    now: dt.datetime
    deadline: dt.datetime
    buildings: list[Late]  # the user's, in `node`'s subtree, latest first
    late_total: int  # of those, before the list is cut at LISTED
    finish: dt.datetime | None  # when the whole area is projected to be done
    site_rates: dict[int, int]


def site_buildings(round_: Round) -> dict[int, set[int]]:
    """{building: sites} of the sites serving the round (`services.serves`): the buildings
    they serve directly and through command zones."""
    serving: dict[int, set[int]] = defaultdict(set)
    areas = list(
        SiteArea.objects.filter(round_area_q(round_, "site__")).values_list(
            "site_id", "building_id", "zone_id"
        )
    )
    zones = {z for _s, _b, z in areas if z}
    members: dict[int, list[int]] = defaultdict(list)
    for zone_id, building_id in ZoneBuilding.objects.filter(zone_id__in=zones).values_list(
        "zone_id", "building_id"
    ):
        members[zone_id].append(building_id)
    for site_id, building_id, zone_id in areas:
        for b in [building_id] if building_id else members[zone_id]:
            serving[b].add(site_id)
    return serving


def per_group(group_by: str, where: Q, round_: Round) -> tuple[dict, dict]:
    expected = dict(
        Resident.objects.filter(where, presence=Presence.HOME)
        .values(group_by)
        .annotate(n=Count("id"))
        .values_list(group_by, "n")
    )
    sampled = dict(
        Scan.objects.filter(
            where, round=round_, kind=ScanKind.RESIDENT, retest=False, voided_at__isnull=True
        )
        .values(group_by)
        .annotate(n=Count("id"))
        .values_list(group_by, "n")
    )
    return expected, sampled


def site_rates(round_: Round, now: dt.datetime) -> dict[int, int]:
    """{site: residents sampled in the last hour} (home-sampling teams have no site)."""
    return dict(
        Scan.objects.filter(
            round=round_,
            kind=ScanKind.RESIDENT,
            retest=False,
            voided_at__isnull=True,
            at__gt=now - RATE_WINDOW,
            at__lte=now,
            station__site__isnull=False,
        )
        .values("station__site_id")
        .annotate(n=Count("id"))
        .values_list("station__site_id", "n")
    )


def deadline_projection(
    user, round_: Round, node: Node, now: dt.datetime | None = None
) -> Projection:
    """The buildings (with their units) of `node`'s subtree in the user's view that the
    round is projected to miss, latest first."""
    now = now or timezone.now()
    area = Q(**{f"{round_.node.level}_id": round_.node_id})
    expected, sampled = per_group("building_id", area, round_)
    remaining = {b: max(n - sampled.get(b, 0), 0) for b, n in expected.items() if b}
    rates = site_rates(round_, now) if now >= round_.starts_at else {}
    finish = finish_times(now=now, rates=rates, remaining=remaining, serving=site_buildings(round_))
    deadline = round_.due
    late = {b for b, f in finish.items() if remaining[b] and misses(f, deadline)}
    mine = list(
        Node.objects.restrict(user)
        .filter(pk__in=late, **{f"{node.level}_id": node.pk})
        .order_by("path")
    )
    mine.sort(key=lambda b: (finish[b.pk] is not None, -(finish[b.pk] or now).timestamp()))
    late_total, mine = len(mine), mine[:LISTED]
    rows = [Late(b, expected.get(b.pk, 0), sampled.get(b.pk, 0), finish[b.pk]) for b in mine]
    if rows:
        by_unit = Q(building_id__in=[r.node.pk for r in rows])
        unit_expected, unit_sampled = per_group("unit_id", area & by_unit, round_)
        units = Node.objects.restrict(user).filter(pk__in=list(unit_expected)).order_by("path")
        index = {r.node.pk: r for r in rows}
        for unit in units:
            left = unit_expected[unit.pk] - unit_sampled.get(unit.pk, 0)
            if left > 0:
                row = index[unit.building_id]
                row.units.append(
                    Late(unit, unit_expected[unit.pk], unit_sampled.get(unit.pk, 0), row.finish)
                )
    ends = [f for b, f in finish.items() if remaining[b]]
    return Projection(
        round=round_,
        now=now,
        deadline=deadline,
        buildings=rows,
        late_total=late_total,
        finish=None if None in ends else max(ends, default=now),
        site_rates=rates,
    )
