"""Reads of results: the retest list, the traceback of a tube, the positive tubes of a round;
every one through the scope."""

from dataclasses import dataclass, field

from django.db.models import F, QuerySet

from bastion.geo.models import Node, Resident
from bastion.people.models import Post, PostRole
from bastion.people.queries import building_notice
from bastion.testing.results.models import Retest
from bastion.testing.rounds.coverage import area_where
from bastion.testing.rounds.models import Round
from bastion.testing.scans.models import Result, Scan, ScanKind, Tube, WalkIn
from bastion.testing.scans.queries import tubes_for
from bastion.testing.scans.shown import PersonShown, person_shown

# ---------------------------------------------------------------------------------- retests


def retests(user, round_: Round, node: Node | None = None) -> QuerySet[Retest]:
    """Residents marked for a single-tube retest, with the pool they came from and, once
    retested, the single tube (its result is the retest's)."""
    rows = Retest.objects.restrict(user).filter(round=round_)
    if node is not None:
        rows = rows.filter(area_where(round_, node))
    return rows.select_related(
        "resident", "resident__household", "unit", "building", "grid", "source_tube", "tube"
    ).order_by(F("tube").asc(nulls_first=True), "building__path", "unit__path", "pk")


@dataclass
class TracedPerson:
    scan: Scan
    resident: Resident | None
    walk_in: WalkIn | None
    retest: Retest | None = None


@dataclass
class TracedBuilding:
    building: Node
    notice: dict  # people.queries.building_notice: chiefs of street, grid, building, units
    people: list[TracedPerson] = field(default_factory=list)

    @property
    def grid_chief(self) -> Post | None:
        return self.notice["chiefs"].get(PostRole.GRID_CHIEF)

    @property
    def building_chief(self) -> Post | None:
        return self.notice["chiefs"].get(PostRole.BUILDING_CHIEF)

    def unit_chief(self, unit_id: int) -> Post | None:
        return next((post for unit, post in self.notice["units"] if unit.pk == unit_id), None)


@dataclass
class Traceback:
    tube: Tube
    buildings: list[TracedBuilding]
    walk_ins: list[TracedPerson]
    hidden: int  # people in the tube outside the user's scope
    retests: dict[int, Retest]
    outside: list[PersonShown] = field(default_factory=list)  # those people, as a station

    @property
    def people(self) -> int:
        return sum(len(b.people) for b in self.buildings) + len(self.walk_ins)


def traceback(user, tube: Tube) -> Traceback:
    """The people in a tube with their households, units, buildings and grids, and the
    chiefs of each (building_notice per building) with phone numbers."""
    scans = list(
        Scan.objects.restrict(user)
        .filter(tube=tube)
        .select_related(
            "resident", "resident__household", "walk_in", "unit", "building", "grid", "community"
        )
        .order_by(
            "building_id",
            "unit_id",
            "resident__household__floor",
            "resident__household__room",
            "pk",
        )
    )
    # The others in the tube, shown as the scan showed them to a station (`person_shown`):
    # a masked name and number, nothing of where they live.
    outside = [
        person_shown(
            user,
            scan,
            name=getattr(scan.resident or scan.walk_in, "name", ""),
            number=getattr(scan.resident or scan.walk_in, "id_number", "") or "",
            resident_id=scan.resident_id,
        )
        for scan in Scan.objects.filter(tube=tube)
        .exclude(pk__in=[s.pk for s in scans])
        .select_related("resident", "walk_in")
        .order_by("pk")
    ]
    buildings: dict[int, TracedBuilding] = {}
    walk_ins: list[TracedPerson] = []
    for scan in scans:
        person = TracedPerson(scan, scan.resident, scan.walk_in)
        if scan.kind == ScanKind.WALK_IN:
            walk_ins.append(person)
            continue
        if scan.building_id not in buildings:
            buildings[scan.building_id] = TracedBuilding(
                scan.building, building_notice(scan.building)
            )
        buildings[scan.building_id].people.append(person)
    retest_rows = {
        r.resident_id: r
        for r in Retest.objects.filter(
            round_id=tube.round_id, resident_id__in=[s.resident_id for s in scans if s.resident_id]
        ).select_related("tube")
    }
    for b in buildings.values():
        for p in b.people:
            p.retest = retest_rows.get(p.scan.resident_id)
    return Traceback(tube, list(buildings.values()), walk_ins, len(outside), retest_rows, outside)


def positive_tubes(user, round_: Round) -> QuerySet[Tube]:
    return (
        tubes_for(user)
        .filter(round=round_, result=Result.POSITIVE)
        .order_by("-resulted_at", "barcode")
    )
