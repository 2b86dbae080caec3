"""`bastion bench quarantine`: a city's quarantine sites — ten hotels of 1,000 rooms each,
10,000 people in them (a tenth released, some transferred), their homes spread over the
street's 100 grids, this morning's checks done for half of them — then the measures the issue
sets: one site's board (its figures, the room plan, releases due, the people here, as the
page reads them) < 100 ms, and the city's daily figures over the 10,000 < 300 ms; beside the
database's plain count of the same rows in the same run. The web command opens the scratch
database and calls these two."""

import datetime as dt
import random
import statistics
import time

from django.db import connection, transaction
from django.utils import timezone

from bastion.geo import services as geo
from bastion.geo.identity import make_id_number
from bastion.people.mobilization import services as mobilization
from bastion.quarantine import queries, services
from bastion.quarantine.models import HealthCheck, Room, Stay

SITES, ROOMS, PEOPLE = 10, 1000, 10_000
COMMUNITIES, GRIDS = 10, 10
TARGETS = {"board_ms": 100.0, "figures_ms": 300.0}


def bench_build(seed: int = 7) -> dict:
    """The tree (a city, a district, a street of 10 × 10 grids), ten sites of 1,000 rooms
    (blocks A–E, floors 1–20, ten rooms a floor) and 10,000 stays; answers the ids."""
    rng = random.Random(seed)
    now = timezone.now()
    with transaction.atomic():
        city = geo.node_create(parent=None, name="基准市", code="QC")
        district = geo.node_create(parent=city, name="基准区", code="QD")
        street = geo.node_create(parent=district, name="隔离街道", code="QS")
        grids = []
        for c in range(COMMUNITIES):
            community = geo.node_create(parent=street, name=f"{c + 1}社区", code=f"C{c + 1}")
            grids += [
                geo.node_create(parent=community, name=f"{c + 1}-{g + 1}网格", code=f"G{g + 1}")
                for g in range(GRIDS)
            ]
        sites = []
        for s in range(SITES):
            place = mobilization.place_create(
                node=grids[s * GRIDS], name=f"隔离酒店{s + 1}", kind="quarantine_site",
                opened_on=(now - dt.timedelta(days=30)).date(),
            )  # fmt: skip
            services.site_terms(place)
            rooms = [
                Room(place=place, block=b, floor=f, number=f"{f}{n:02d}", capacity=1)
                for b in "ABCDE"
                for f in range(1, 21)
                for n in range(1, 11)
            ]
            for r in rooms:
                r.locate(place)
            Room.objects.bulk_create(rooms, batch_size=2000)
            sites.append(place)
        stays, taken = [], []
        for i in range(PEOPLE):
            place = sites[i % SITES]
            room_index = i // SITES
            admitted = now - dt.timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 12))
            ended = i % 10 == 3 or admitted < now - dt.timedelta(days=14)
            home = grids[rng.randrange(len(grids))]
            birth = dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28)
            stay = Stay(
                place=place, room_id=None, name=f"隔离{i:05d}", doc_kind="id_card",
                doc_number=make_id_number("110105", birth, i % 1000), source="returnee",
                travel_no="CA1234", arrival_at=admitted - dt.timedelta(hours=2),
                admitted_at=admitted, planned_end=(admitted + dt.timedelta(days=14)).date(),
                state="released" if ended else "in",
                ended_at=admitted + dt.timedelta(days=14) if ended else None,
                home_node=home, home_community_id=home.community_id, home_grid_id=home.grid_id,
            )  # fmt: skip
            stay.locate(place)
            stays.append(stay)
            taken.append((place.pk, room_index, not ended))
        rooms_by_site = {
            p.pk: list(Room.objects.filter(place=p).order_by("block", "floor", "number"))
            for p in sites
        }
        for stay, (place_id, index, _here) in zip(stays, taken, strict=True):
            stay.room = rooms_by_site[place_id][index]
        # the same ID number can come twice (i % 1000): only one may be in at a time
        seen = set()
        for stay in stays:
            if stay.state == "in" and stay.doc_number in seen:
                stay.state, stay.ended_at = "released", stay.admitted_at + dt.timedelta(days=14)
            if stay.state == "in":
                seen.add(stay.doc_number)
        Stay.objects.bulk_create(stays, batch_size=2000)
        occupied = [s.room_id for s in stays if s.state == "in"]
        Room.objects.filter(pk__in=occupied).update(occupants=1, state="occupied")
        today = timezone.localdate(now)
        checks = [
            HealthCheck(
                stay=s, day=today, half="am", temperature="36.5", checked_at=now, abnormal=False
            )
            for s in Stay.objects.filter(state="in").order_by("pk")[::2]
        ]
        HealthCheck.objects.bulk_create(checks, batch_size=2000)
    return {"site_id": sites[0].pk, "grid_ids": [g.pk for g in grids], "people": PEOPLE}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _median_ms(fn, runs: int = 10) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return _ms(statistics.median(times)), result


def bench_measure(*, site_id: int, grid_ids: list[int]) -> dict:
    """Median of ten reads of one site's board (as the page reads it) and of the city's
    daily figures, and the database's plain COUNT over the same stays."""
    from bastion.people.mobilization.models import Place

    place = Place.objects.get(pk=site_id)
    now = timezone.localtime()
    day, half = now.date(), services.half_of(now)

    def board():
        figures = queries.board(place, day, half)
        plan = queries.room_grid(place)
        releases = list(queries.releases_due(place, day)[:200])
        here = list(queries.stays_in(place).order_by("room__block", "room__number")[:200])
        return figures, sum(len(r) for _b, _f, r in plan), len(releases), len(here)

    board_ms, (figures, rooms, releases, here) = _median_ms(board)
    figures_ms, by_grid = _median_ms(lambda: queries.daily_figures(day, grid_ids))

    def raw():
        with connection.cursor() as cursor:
            table = Stay._meta.db_table
            cursor.execute(f'SELECT grid_id, COUNT(*) FROM "{table}" GROUP BY grid_id')  # noqa: S608
            return cursor.fetchall()

    raw_ms, _rows = _median_ms(raw)
    return {
        "rooms": rooms,
        "people_here": figures.people,
        "checks_due": figures.due,
        "releases_due": releases,
        "board_ms": board_ms,
        "figures_ms": figures_ms,
        "figures_in_now": sum(f["quarantine_now"] for f in by_grid.values()),
        "raw_count_ms": raw_ms,
        "people": Stay.objects.count(),
    }
