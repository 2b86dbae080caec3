"""A testing set-up on the small known tree (bastion.core.testing): a running round over the
street with pools of 5, two sites (one in each grid of the first community) with two stations
each and their staff, a home team in the first grid, and helpers to scan."""

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from bastion.core.testing import Rows
from bastion.geo import services as geo
from bastion.geo.models import Household, Node, Resident
from bastion.people import services as people
from bastion.testing.custody import handovers as custody_handovers
from bastion.testing.custody import services as custody_services
from bastion.testing.demo.rounds import build_demo
from bastion.testing.rounds import services as round_services
from bastion.testing.rounds.models import Round, Site, Station
from bastion.testing.scans import batch as scan_batch
from bastion.testing.scans.models import Tube
from bastion.testing.scans.services import scans_record


@dataclass
class Testing:
    tree: object
    round: Round
    sites: list[Site]
    stations: list[Station]  # site 0: stations 0, 1; site 1: stations 2, 3
    home_team: Station
    admin: object
    residents: dict[int, list[Resident]] = field(default_factory=dict)  # by grid index

    def residents_of(self, node: Node) -> list[Resident]:
        column = f"{node.level}_id"
        return list(Resident.objects.filter(**{column: node.pk}).order_by("pk"))


def scan(station: Station, tube: str, code: str, *, actor=None, **extra) -> scan_batch.ScanOutcome:
    """One scan through the batch service (no exception on refusal)."""
    item = scan_batch.ScanInput(
        client_id=extra.pop("client_id", uuid.uuid4()), tube=tube, code=code, **extra
    )
    return scans_record(actor=actor, station=station, items=[item])[0]


def person(unit: Node, name: str, phone: str):
    home = Household.objects.filter(unit=unit).order_by("room").first()
    return people.person_create(name=name, kind="medic", phone=phone, home=home)


def site_elsewhere(testing: Testing) -> Site:
    """A site with one station in another street of the district, serving a building there."""
    street = geo.node_create(parent=testing.tree.district, name="另一街道", code="S2")
    community = geo.node_create(parent=street, name="远社区", code="C9")
    grid = geo.node_create(parent=community, name="远网格", code="G9")
    building = geo.node_create(parent=grid, name="远楼", code="B9", floors=2)
    site = round_services.site_create(
        actor=testing.admin,
        node=grid,
        name="远处采样点",
        address="远处",
        opens_at=dt.time(6),
        closes_at=dt.time(20),
        buildings=[building],
    )
    round_services.station_add(actor=testing.admin, site=site, name="1号台")
    return site


def build_testing(tree) -> Testing:
    admin = tree.users["admin"]
    now = timezone.now()
    round_ = round_services.round_open(
        actor=admin,
        node=tree.street,
        name="第一轮",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=8),
        pool_size=5,
    )
    sites, stations = [], []
    phone = 13700000000
    for i, grid in enumerate(tree.grids[:2]):
        buildings = [b for b in tree.buildings if b.grid_id == grid.pk]
        site = round_services.site_create(
            actor=admin,
            node=grid,
            name=f"采样点{i + 1}",
            address=f"广场{i + 1}号",
            opens_at=dt.time(6),
            closes_at=dt.time(20),
            buildings=buildings,
        )
        sites.append(site)
        unit = tree.units[4 * i]
        for n in (1, 2):
            station = round_services.station_add(actor=admin, site=site, name=f"{n}号台")
            stations.append(station)
            round_services.station_open(actor=admin, station=station, round=round_)
            phone += 1
            round_services.site_post_assign(
                actor=admin,
                site=site,
                station=station,
                role="station_head",
                person=person(unit, f"台长{i}{n}", str(phone)),
            )
        phone += 1
        round_services.site_post_assign(
            actor=admin, site=site, role="site_leader", person=person(unit, f"点长{i}", str(phone))
        )
    home_team = round_services.home_team_add(actor=admin, node=tree.grids[0], name="入户一队")
    round_services.station_open(actor=admin, station=home_team, round=round_)
    return Testing(tree, round_, sites, stations, home_team, admin)


@pytest.fixture(scope="session")
def testing_rows(tree_rows, django_db_blocker):
    with django_db_blocker.unblock():
        return Rows(build_testing, base=tree_rows)


@pytest.fixture
def testing(tree, testing_rows, fetched) -> Testing:
    """The set-up above, built once per session and inserted again for each test (see
    bastion.conftest.Rows)."""
    return testing_rows.insert(fetched)


@dataclass
class TestingDemo:
    """The testing demo (`bastion.testing.demo.build_demo`, seed 1) on the small tree: the
    clock it was built at, and the counts it returned."""

    now: dt.datetime
    counts: dict


def build_testing_demo(tree) -> TestingDemo:
    now = timezone.now()
    return TestingDemo(now, build_demo(tree.street, random.Random(1), now))


@pytest.fixture(scope="session")
def testing_demo_rows(tree_rows, django_db_blocker):
    with django_db_blocker.unblock():
        return Rows(build_testing_demo, base=tree_rows)


@pytest.fixture
def testing_demo(tree, testing_demo_rows, fetched) -> TestingDemo:
    """The testing demo on the small tree, built once per session and inserted again for
    each test (see bastion.conftest.Rows); use its `now`, not the clock."""
    return testing_demo_rows.insert(fetched)


def fill_tubes(testing, station, barcodes: list[str], offset: int = 0) -> list[Tube]:
    """Full (so closed) tubes of 5 residents each, sampled at `station`."""
    people = testing.residents_of(testing.tree.grids[0])[offset:]
    for k, barcode in enumerate(barcodes):
        for r in people[5 * k : 5 * k + 5]:
            assert scan(station, barcode, r.id_number).ok
    tubes = list(Tube.objects.filter(barcode__in=barcodes).order_by("barcode"))
    assert all(t.status == "closed" for t in tubes)
    return tubes


@pytest.fixture
def packed(testing):
    """Bag B-0001 at site 0 holding three closed tubes of station 0."""
    tubes = fill_tubes(testing, testing.stations[0], ["C-0001", "C-0002", "C-0003"])
    bag = custody_services.bag_open(
        actor=testing.admin, round=testing.round, site=testing.sites[0], barcode="b-0001"
    )
    for t in tubes:
        custody_services.tube_pack(actor=testing.admin, bag=bag, barcode=t.barcode)
    bag.refresh_from_db()
    return bag


@pytest.fixture
def picked_up(testing, packed):
    """Box X-0001 with bag B-0001, picked up at site 0 by a driver typed in by name."""
    bag = custody_services.bag_seal(actor=testing.admin, bag=packed, counted=3)
    box = custody_services.box_open(
        actor=testing.admin, round=testing.round, site=testing.sites[0], barcode="X-0001"
    )
    custody_services.bag_box(actor=testing.admin, box=box, barcode=bag.barcode)
    return custody_handovers.box_handover(
        actor=testing.admin,
        box=box,
        leg="pickup",
        giver=custody_handovers.party_of(testing.admin),
        taker=custody_handovers.Party(name="司机王", phone="13912340000"),
        client_id=uuid.uuid4(),
    )
