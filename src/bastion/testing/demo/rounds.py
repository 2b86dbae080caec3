"""The mass-testing set-up of the demo street, from the field reports: 32 sampling sites with
63 stations (one site has a single station), each site with its leader and two station
heads; one finished round with lab results (a few positive pools, traced back to their
people, who are on the retest list; a couple of invalid tubes, whose people are back to not
sampled) and one round in progress, about half sampled, with its immobile residents waiting
for home visits and live throughput for the last hours.

`build_demo(street, rng, now)` runs after the street is built. It writes with bulk_create
(about 60,000 scans for the 39,303 residents) and is deterministic for a given `rng` seed
and `now`. Lab results go through `services.results_import`, so retests and voided scans are
exactly what the service makes.
"""

import datetime as dt
import math
import random
import uuid
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from bastion.core.bulk import insert_rows, insert_rows_returning
from bastion.geo.models import LEVEL_ORDER, Node, Presence, Resident
from bastion.people.models import Person, PersonKind, Post
from bastion.testing.demo.custody import build_custody
from bastion.testing.demo.identity import build_identity_demo
from bastion.testing.demo.response import build_response_demo
from bastion.testing.results import services as result_services
from bastion.testing.rounds.models import (
    Round,
    Shift,
    Site,
    SiteArea,
    SitePost,
    StaffRole,
    Station,
    StationKind,
)
from bastion.testing.scans import batch as scan_batch
from bastion.testing.scans.models import Result, Scan, ScanKind, Tube, TubeKind, TubeStatus

# The path before the split: the demo seeds its random numbers with it (same data).
DEMO_SEED = "bastion.testing.demo"

SITES = 32


STATIONS = 63


POOL = 10


FINISHED_SAMPLED = 0.985  # share of expected residents sampled in the finished round


RUNNING_SAMPLED = 0.55


POSITIVE_POOLS = 3


INVALID_TUBES = 2


SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"


GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国志强文"


_ANCESTORS = tuple(f"{level}_id" for level in LEVEL_ORDER)


SCAN_COLUMNS = scan_batch.SCAN_COLUMNS


TUBE_COLUMNS = (
    "round_id",
    "station_id",
    "barcode",
    "kind",
    "capacity",
    "filled",
    "status",
    "opened_at",
    "closed_at",
    "result",
    *_ANCESTORS,
)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _split(items: list, parts: int) -> list[list]:
    """`items` in `parts` contiguous runs of nearly equal length."""
    size, extra = divmod(len(items), parts)
    runs, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        runs.append(items[start:end])
        start = end
    return runs


def _staff(street: Node, rng: random.Random, count: int, sites: list[Site]) -> list[Person]:
    """Persons living in the street who hold no chief post (cadres first); made up if the
    street has too few."""
    busy = set(
        Post.objects.filter(street_id=street.pk, ended_on__isnull=True).values_list(
            "person_id", flat=True
        )
    )
    pool = [
        p for p in Person.objects.filter(street_id=street.pk).order_by("pk") if p.pk not in busy
    ]
    rng.shuffle(pool)
    chosen = pool[:count]
    made = []
    for i in range(count - len(chosen)):
        site = sites[i % len(sites)]
        phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
        person = Person(
            name=rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=2)),
            kind=PersonKind.MEDIC,
            phone=phone,
        )
        person.locate(site.node)
        made.append(person)
    Person.objects.bulk_create(made)
    return chosen + made


def _sites(
    street: Node, rng: random.Random
) -> tuple[list[Site], dict[int, list[Station]], dict[int, Site]]:
    buildings = list(
        Node.objects.filter(street_id=street.pk, level="building")
        .order_by("path")
        .select_related("community")
    )
    runs = _split(buildings, SITES)
    single = rng.randrange(SITES)  # the one site with one station: 31 × 2 + 1 = 63
    sites = []
    for i, run in enumerate(runs):
        place = run[0].community if run else street
        node = place or street
        site = Site(
            node=node,
            name=f"第{i + 1}采样点",
            address=f"{node.name}{run[0].name if run else ''}前广场",
            opens_at=dt.time(6, 30) if i % 3 else dt.time(6),
            closes_at=dt.time(20) if i % 4 else dt.time(21),
            plan="单向通行，一米线排队；扫码登记 → 采样 → 原路离开。医废集中收运。",
            client_id=_uuid(rng),
        )
        site.locate(node)
        sites.append(site)
    Site.objects.bulk_create(sites)
    SiteArea.objects.bulk_create(
        [
            SiteArea(site=site, building=b)
            for site, run in zip(sites, runs, strict=True)
            for b in run
        ]
    )
    stations: dict[int, list[Station]] = {}
    rows = []
    for i, site in enumerate(sites):
        stations[site.pk] = []
        for n in range(1 if i == single else 2):
            station = Station(
                site=site, name=f"{n + 1}号采样台", kind=StationKind.FIXED, client_id=_uuid(rng)
            )
            station.locate(site.node)
            stations[site.pk].append(station)
            rows.append(station)
    Station.objects.bulk_create(rows)
    serving = {b.pk: site for site, run in zip(sites, runs, strict=True) for b in run}
    return sites, stations, serving


def _posts(
    street: Node,
    rng: random.Random,
    sites: list[Site],
    stations: dict[int, list[Station]],
    today: dt.date,
) -> int:
    persons = _staff(street, rng, 3 * len(sites), sites)
    posts = []
    for i, site in enumerate(sites):
        leader, *heads = persons[3 * i : 3 * i + 3]
        own = stations[site.pk]
        posts.append(
            SitePost(
                site=site,
                person=leader,
                role=StaffRole.SITE_LEADER,
                started_on=today - dt.timedelta(days=3),
            )
        )
        for n, head in enumerate(heads):
            posts.append(
                SitePost(
                    site=site,
                    station=own[n] if n < len(own) else None,
                    person=head,
                    role=StaffRole.STATION_HEAD,
                    started_on=today - dt.timedelta(days=3),
                )
            )
    for post in posts:
        post.locate(post.site.node)
    SitePost.objects.bulk_create(posts)
    return len(posts)


def _sample(
    rng: random.Random,
    round_: Round,
    residents: list[tuple],
    serving: dict,
    stations: dict[int, list[Station]],
    start: dt.datetime,
    end: dt.datetime,
    share: float,
    *,
    skip_immobile: bool,
    finished: bool,
) -> tuple[int, int]:
    """Scan `share` of the residents of each site (in building order) at its stations,
    `round_.pool_size` to a tube, at times spread from `start` to `end`."""
    by_site: dict[int, list[tuple]] = defaultdict(list)
    for row in residents:
        if skip_immobile and (row[2] or row[3]):
            continue
        by_site[serving[row[4 + LEVEL_ORDER.index("building")]].pk].append(row)
    tube_rows: list[tuple] = []
    planned: list[tuple[list[tuple], list[dt.datetime], int]] = []
    span = (end - start).total_seconds()
    for site_id, rows in by_site.items():
        rows = (
            rows[: round(len(rows) * share)]
            if share < 1
            else [r for r in rows if rng.random() < FINISHED_SAMPLED]
        )
        own = stations[site_id]
        for k, station in enumerate(own):
            mine = rows[k :: len(own)]
            if not mine:
                continue
            located = tuple(getattr(station, c) for c in _ANCESTORS)
            # Times: a busy morning, a quieter afternoon (the power bunches them early).
            times = sorted(start + dt.timedelta(seconds=span * (rng.random() ** 1.4)) for _ in mine)
            for t in range(0, len(mine), round_.pool_size):
                people, at = mine[t : t + round_.pool_size], times[t : t + round_.pool_size]
                closed = len(people) == round_.pool_size or finished
                tube_rows.append(
                    (
                        round_.pk,
                        station.pk,
                        f"T{round_.pk}-{station.pk}-{t // round_.pool_size:04d}",
                        TubeKind.POOL,
                        round_.pool_size,
                        len(people),
                        TubeStatus.CLOSED if closed else TubeStatus.OPEN,
                        at[0],
                        at[-1] if closed else None,
                        "",
                        *located,
                    )
                )
                planned.append((people, at, station.pk))
    tube_ids = insert_rows_returning(Tube, TUBE_COLUMNS, tube_rows)
    scans = [
        (
            _uuid(rng),
            round_.pk,
            tube_id,
            station_id,
            ScanKind.RESIDENT,
            row[0],
            None,
            False,
            at,
            at,
            None,
            "",
            None,
            False,
            *row[4:],
        )
        for tube_id, (people, times, station_id) in zip(tube_ids, planned, strict=True)
        for row, at in zip(people, times, strict=True)
    ]
    insert_rows(Scan, SCAN_COLUMNS, scans)
    return len(tube_ids), len(scans)


def _shifts(
    round_: Round, stations: list[Station], opened: dt.datetime, closed: dt.datetime | None
) -> None:
    shifts = []
    for station in stations:
        shift = Shift(station=station, round=round_, opened_at=opened, closed_at=closed)
        shift.locate(station)
        shifts.append(shift)
    Shift.objects.bulk_create(shifts)


@transaction.atomic
def build_demo(street: Node, rng: random.Random, now: dt.datetime) -> dict:
    today = timezone.localdate(now)
    sites, stations, serving = _sites(street, rng)
    posts = _posts(street, rng, sites, stations, today)
    all_stations = [st for own in stations.values() for st in own]
    residents = list(
        Resident.objects.filter(street_id=street.pk, presence=Presence.HOME)
        .order_by("building__path", "unit__path", "household__floor", "household__room", "pk")
        .values_list("pk", "id_number", "immobile", "disabled", *_ANCESTORS)
    )

    yesterday = today - dt.timedelta(days=1)
    finished = Round(
        node=street,
        name=f"{yesterday:%m月%d日}全员核酸检测",
        starts_at=_local(yesterday, 6),
        ends_at=_local(yesterday, 20),
        pool_size=POOL,
        client_id=_uuid(rng),
    )
    running = Round(
        node=street,
        name=f"{today:%m月%d日}全员核酸检测",
        starts_at=min(_local(today, 6), now - dt.timedelta(hours=4)),
        ends_at=now + dt.timedelta(hours=10),
        pool_size=POOL,
        client_id=_uuid(rng),
    )
    for r in (finished, running):
        r.locate(street)
    Round.objects.bulk_create([finished, running])

    _shifts(finished, all_stations, finished.starts_at, finished.ends_at)
    _shifts(running, all_stations, running.starts_at, None)
    tubes_1, scans_1 = _sample(
        rng,
        finished,
        residents,
        serving,
        stations,
        finished.starts_at,
        finished.ends_at - dt.timedelta(minutes=30),
        1.0,
        skip_immobile=False,
        finished=True,
    )
    tubes_2, scans_2 = _sample(
        rng,
        running,
        residents,
        serving,
        stations,
        running.starts_at,
        now - dt.timedelta(minutes=2),
        RUNNING_SAMPLED,
        skip_immobile=True,
        finished=False,
    )

    finder_counts = _finder_demo(rng, running, sites, stations, now)

    # The lab's answer for the finished round: a few positive pools, a couple invalid.
    barcodes = list(
        Tube.objects.filter(round=finished).order_by("pk").values_list("barcode", flat=True)
    )
    odd = rng.sample(barcodes, POSITIVE_POOLS + INVALID_TUBES)
    results = {b: Result.NEGATIVE for b in barcodes}
    results |= dict.fromkeys(odd[:POSITIVE_POOLS], Result.POSITIVE)
    results |= dict.fromkeys(odd[POSITIVE_POOLS:], Result.INVALID)
    result_services.results_import(
        actor=None,
        round=finished,
        filename="检测结果.xlsx",
        source="demo",
        rows=[result_services.ResultRow(i + 2, b, r) for i, (b, r) in enumerate(results.items())],
    )
    identity = build_identity_demo(street, rng, running, all_stations, now)
    response = build_response_demo(street, rng, now, finished)  # the positive pools' response
    # The running round's custody comes after the pooling demo repacks its tubes.
    custody = build_custody(rng, now, finished)  # testing/demo/custody.py
    return custody | {
        **identity,
        **response,
        "sampling_sites": len(sites),
        "sampling_stations": len(all_stations),
        "site_posts": posts,
        "testing_rounds": 2,
        "tubes": tubes_1 + tubes_2,
        "scans": scans_1 + scans_2,
        "positive_pools": POSITIVE_POOLS,
        "retests": finished.retests.count(),
        **finder_counts,
    }


# ------------------------------------------------------------------ the public site finder

FINDER_CENTRE = (42.6770, 125.5330)  # 东丰县城, WGS-84


FINDER_BUSY = ((None, 0), (35, 30), (80, 30))  # (target wait in minutes from a crew's count


# or None: from scans only; extra scans per station in the last 15 minutes) per busy site


def _finder_demo(
    rng: random.Random,
    running: Round,
    sites: list[Site],
    stations: dict[int, list[Station]],
    now: dt.datetime,
) -> dict:
    """What the public site finder shows: coordinates for every site (each community's
    sites a few hundred metres around its own centre), and three sites of the first
    community open around the clock (so the demo shows them open at any hour) with a fresh
    burst of scans and the crews' queue counts putting them in the three wait bands."""
    from bastion.testing.finder import queries as finder_queries

    centres: dict[int, tuple[float, float]] = {}
    for site in sites:
        if site.node_id not in centres:
            k = len(centres)
            centres[site.node_id] = (
                FINDER_CENTRE[0] + 0.012 * (k % 3 - 1),
                FINDER_CENTRE[1] + 0.016 * (k // 3 - 1),
            )
        lat, lon = centres[site.node_id]
        site.lat = round(lat + rng.uniform(-0.003, 0.003), 6)
        site.lon = round(lon + rng.uniform(-0.004, 0.004), 6)
    busy = [s for s in sites if s.node_id == sites[0].node_id][: len(FINDER_BUSY)]
    for site in busy:
        site.opens_at = site.closes_at = dt.time(0)  # open all day
    Site.objects.bulk_update(sites, ["lat", "lon", "opens_at", "closes_at"])

    since = now - finder_queries.WINDOW
    scans = 0
    for site, (target, extra) in zip(busy, FINDER_BUSY, strict=False):
        own = stations[site.pk]
        if extra:
            scans += _finder_scans(rng, running, site, own, extra, since)
        if target is None:
            continue
        # The count that makes the wait `target` minutes at the rate the site serves now.
        served = Scan.objects.filter(
            round=running, station__in=own, at__gt=since, at__lte=now
        ).count()
        minutes = finder_queries.WINDOW.total_seconds() / 60
        rate = (
            served / minutes
            if served >= finder_queries.MIN_SCANS_FOR_RATE
            else len(own) * finder_queries.SERVICE_PER_MINUTE
        )
        waiting = math.ceil(target * rate)
        for k, station in enumerate(own):
            station.queue_length = waiting // len(own) + (k < waiting % len(own))
            station.queue_reported_at = now - dt.timedelta(minutes=3)
        Station.objects.bulk_update(own, ["queue_length", "queue_reported_at"])
    return {"finder_sites_with_coordinates": len(sites), "finder_recent_scans": scans}


def _finder_scans(
    rng: random.Random,
    running: Round,
    site: Site,
    own: list[Station],
    extra: int,
    since: dt.datetime,
) -> int:
    """`extra` more scans per station of `site` in the last 15 minutes, of residents it
    serves who are not sampled yet, into new tubes."""
    buildings = SiteArea.objects.filter(site=site).values("building_id")
    sampled = Scan.objects.filter(round=running, resident__isnull=False).values("resident_id")
    people = list(
        Resident.objects.filter(
            building_id__in=buildings, presence=Presence.HOME, immobile=False, disabled=False
        )
        .exclude(pk__in=sampled)
        .order_by("pk")
        .values_list("pk", *_ANCESTORS)[: extra * len(own)]
    )
    tube_rows, planned = [], []
    for k, station in enumerate(own):
        mine = people[k :: len(own)]
        times = sorted(since + dt.timedelta(seconds=rng.uniform(30, 870)) for _ in mine)
        for t in range(0, len(mine), POOL):
            group, at = mine[t : t + POOL], times[t : t + POOL]
            full = len(group) == POOL
            tube_rows.append(
                (
                    running.pk,
                    station.pk,
                    f"F{running.pk}-{station.pk}-{t // POOL:03d}",
                    TubeKind.POOL,
                    POOL,
                    len(group),
                    TubeStatus.CLOSED if full else TubeStatus.OPEN,
                    at[0],
                    at[-1] if full else None,
                    "",
                    *(getattr(station, c) for c in _ANCESTORS),
                )
            )
            planned.append((group, at, station.pk))
    tube_ids = insert_rows_returning(Tube, TUBE_COLUMNS, tube_rows)
    rows = [
        (_uuid(rng), running.pk, tube_id, station_id, ScanKind.RESIDENT, person[0], None)
        + (False, at, at, None, "", None, False, *person[1:])
        for tube_id, (group, times, station_id) in zip(tube_ids, planned, strict=True)
        for person, at in zip(group, times, strict=True)
    ]
    insert_rows(Scan, SCAN_COLUMNS, rows)
    return len(rows)
