"""The demo's control areas and the pooling and deadline of its round in progress
(runs after `testing.demo.rounds`).

One compound is hit by a case this morning: a building of it sealed (one tube per household),
its grid controlled (10 in 1), the rest of its community under precaution (20 in 1); an
earlier sealing, lifted, stays in the history. The round in progress is then re-packed as its
stations would have sampled under those levels (each person's tube is the kind their level
needs), and its deadline set so that a few buildings are projected to miss it at each site's
pace of the last hour (later than the default 24 hours: at the demo's evening pace the whole
street would miss that)."""

import datetime as dt
import random
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, Q

from bastion.core.bulk import insert_rows_returning, update_rows
from bastion.geo.models import LEVEL_ORDER, Node, Resident
from bastion.incidents import services as incidents
from bastion.incidents.models import ControlArea
from bastion.incidents.queries import active_levels, ancestor_ids, strictest_of
from bastion.testing.demo.rounds import TUBE_COLUMNS
from bastion.testing.rounds.models import Round, Station
from bastion.testing.rounds.pooling import need
from bastion.testing.rounds.projection import finish_times, per_group, site_buildings, site_rates
from bastion.testing.scans.models import Scan, ScanKind, Tube, TubeKind, TubeStatus

# The path before the split: the demo seeds its random numbers with it (same data).
DEMO_SEED = "bastion.testing.demo_pooling"

_ANCESTORS = tuple(f"{level}_id" for level in LEVEL_ORDER)


LATE_AT_LEAST = 3  # buildings projected to miss the deadline


MARK = {"sealed": "S", "controlled": "C", "precaution": "P"}


def _areas(street: Node, running: Round, rng: random.Random) -> dict[str, Node]:
    """Seal a sampled building, control its grid, put its community under precaution."""
    sampled = set(
        Scan.objects.filter(round=running, kind=ScanKind.RESIDENT).values_list(
            "building_id", flat=True
        )
    )
    buildings = list(
        Node.objects.filter(street_id=street.pk, level="building", pk__in=sampled).order_by("path")
    )
    sealed = buildings[rng.randrange(len(buildings) // 3, 2 * len(buildings) // 3)]
    grid, community = Node.objects.get(pk=sealed.grid_id), Node.objects.get(pk=sealed.community_id)
    since = running.starts_at - dt.timedelta(hours=2)
    earlier = next(b for b in buildings if b.community_id != community.pk)
    old = incidents.control_set(
        actor=None,
        node=earlier,
        level="sealed",
        reason="密接者居住，封控观察",
        since=since - dt.timedelta(days=3),
        source="demo",
    )
    incidents.control_lift(actor=None, area=old, at=since - dt.timedelta(hours=6), source="demo")
    for node, level, reason in (
        (community, "precaution", "邻近社区出现病例，防范管理"),
        (grid, "controlled", "病例活动轨迹涉及本网格"),
        (sealed, "sealed", "本楼发现阳性病例，足不出户"),
    ):
        incidents.control_set(
            actor=None, node=node, level=level, reason=reason, since=since, source="demo"
        )
    return {"sealed": sealed, "controlled": grid, "precaution": community}


def _repack(running: Round) -> int:
    """Put the round's scans of residents under a control level into tubes of their kind,
    per station in scan order; the tubes they leave are refilled or removed."""
    scans = list(
        Scan.objects.filter(round=running, kind=ScanKind.RESIDENT)
        .order_by("station_id", "at", "pk")
        .values_list("pk", "resident_id", "station_id", "at", "tube_id", *_ANCESTORS)
    )
    levels = active_levels(i for row in scans for i in ancestor_ids(tuple(row[5:])))
    households = dict(
        Resident.objects.filter(pk__in=[r[1] for r in scans]).values_list("pk", "household_id")
    )
    sizes = dict(
        Resident.objects.filter(household_id__in=set(households.values()), presence="home")
        .values("household_id")
        .annotate(n=Count("id"))
        .values_list("household_id", "n")
    )
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for row in scans:
        level = strictest_of(ancestor_ids(tuple(row[5:])), levels)
        if level is None:
            continue
        want = need(running, level)
        home = households[row[1]] if want.kind == TubeKind.HOUSEHOLD else None
        groups[(row[2], level, home)].append(row)
    stations = Station.objects.in_bulk({key[0] for key in groups})
    tubes, members = [], []
    for (station_id, level, home), rows in sorted(groups.items(), key=lambda g: g[0][:2]):
        want = need(running, level)
        size = min(sizes.get(home, 1), 20) if home else want.capacity
        located = tuple(getattr(stations[station_id], c) for c in _ANCESTORS)
        for n in range(0, len(rows), size):
            chunk = rows[n : n + size]
            closed = len(chunk) == size or home is not None
            tubes.append(
                (
                    running.pk,
                    station_id,
                    f"T{running.pk}-{station_id}-{MARK[level]}{home or ''}{n // size:04d}",
                    want.kind,
                    size,
                    len(chunk),
                    TubeStatus.CLOSED if closed else TubeStatus.OPEN,
                    chunk[0][3],
                    chunk[-1][3] if closed else None,
                    "",
                    *located,
                    home,
                )
            )
            members.append(chunk)
    ids = insert_rows_returning(Tube, (*TUBE_COLUMNS, "household_id"), tubes)
    moved = []
    for tube_id, chunk in zip(ids, members, strict=True):
        for row in chunk:
            scan = Scan(pk=row[0])
            scan.tube_id = tube_id
            moved.append(scan)
    update_rows(Scan, ["tube_id"], moved)
    # The tubes they left: refilled to what they still hold, removed when empty.
    left = {row[4] for chunk in members for row in chunk}
    counts = dict(
        Scan.objects.filter(tube_id__in=left)
        .values("tube_id")
        .annotate(n=Count("id"))
        .values_list("tube_id", "n")
    )
    Tube.objects.filter(pk__in=left - set(counts)).delete()
    refilled = []
    for tube in Tube.objects.filter(pk__in=list(counts)):
        tube.filled = counts[tube.pk]
        refilled.append(tube)
    update_rows(Tube, ["filled"], refilled)
    return len(moved)


def _deadline(running: Round, now: dt.datetime) -> dt.datetime:
    """A deadline between the sites' projected finishes, so that the buildings of the
    slowest sites (at least LATE_AT_LEAST of them) miss it."""
    area = running.node
    expected, sampled = per_group("building_id", Q(**{f"{area.level}_id": area.pk}), running)
    remaining = {b: max(n - sampled.get(b, 0), 0) for b, n in expected.items() if b}
    finish = finish_times(
        now=now,
        rates=site_rates(running, now),
        remaining=remaining,
        serving=site_buildings(running),
    )
    ends = sorted({f for b, f in finish.items() if f and remaining[b]}, reverse=True)
    late = 0
    for i, end in enumerate(ends):
        late += sum(1 for b, f in finish.items() if f == end and remaining[b])
        if late >= LATE_AT_LEAST and i + 1 < len(ends):
            deadline = ends[i + 1] + (end - ends[i + 1]) / 2
            return deadline.replace(second=0, microsecond=0)
    return now + dt.timedelta(hours=6)


@transaction.atomic
def build_demo(street: Node, rng: random.Random, now: dt.datetime) -> dict:
    running = Round.objects.filter(node=street, starts_at__lte=now, ends_at__gte=now).first()
    if running is None:
        return {}
    running.sealed_tube = TubeKind.HOUSEHOLD
    running.save(update_fields=["sealed_tube"])
    _areas(street, running, rng)
    moved = _repack(running)
    # At this pace the default deadline (24 h after the start) is far out of reach: the
    # command has extended it, and the round with it, to where only the slowest sites miss.
    running.deadline = _deadline(running, now)
    running.ends_at = max(running.ends_at, running.deadline + dt.timedelta(hours=2))
    running.save(update_fields=["deadline", "ends_at"])
    return {
        "control_areas": ControlArea.objects.filter(street_id=street.pk).count(),
        "scans_repacked": moved,
    }
