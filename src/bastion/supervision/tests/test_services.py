"""Supervision: a finding through rectification (fix with a photo, re-check by another
inspector), a reopened re-check, the overdue list and the ledger, repeated failures, the
daily figures; bad input refused naming the field, nothing written; photos stripped."""

import datetime as dt

import pytest
from django.utils import timezone

from bastion.core.errors import Conflict, DomainError
from bastion.core.models import ChangeLog
from bastion.notices.models import Delivery
from bastion.people import services as people
from bastion.people.mobilization.services.duty import place_create
from bastion.people.models import Post
from bastion.supervision import queries, services
from bastion.supervision.models import Finding, Inspection, Photo, Status
from bastion.supervision.services import FindingIn

from .conftest import _person, photo

NOW = timezone.make_aware(dt.datetime(2026, 12, 7, 9, 0))


def _inspect_building(tree, world, *, at=NOW, building=None, **finding):
    args = {"severity": "major", "item": world.building_items[0], "photos": photo()}
    return services.inspection_record(
        actor=tree.users["street"],
        team=world.team,
        building=building or tree.buildings[0],
        mode="unannounced",
        findings=[FindingIn(**(args | finding))],
        at=at,
    )


def test_finding_through_rectification(tree, world):
    inspection = _inspect_building(tree, world)
    finding = inspection.findings.get()
    # A task for the building's chief, due by the severity's deadline (major: three days),
    # in their inbox; the evidence photo kept.
    assert finding.responsible == world.building_chief
    assert finding.responsible_as == "building_chief"
    assert finding.due_at == NOW + dt.timedelta(days=3)
    assert finding.status == Status.OPEN
    assert finding.photos.get().kind == "evidence"
    delivery = Delivery.objects.get(notification__kind=services.FINDING_KIND)
    assert delivery.person_id == world.building_chief.pk
    assert delivery.user_id == tree.users["building"].pk
    assert delivery.notification.link == f"/supervision/findings/{finding.pk}/"

    # The chief reports the fix with a photo.
    fixed_at = NOW + dt.timedelta(days=1)
    services.finding_fix(
        actor=tree.users["building"], finding=finding, note="已补齐消杀记录", photos=photo(),
        at=fixed_at,
    )  # fmt: skip
    finding.refresh_from_db()
    assert (finding.status, finding.fixed_at, finding.fixed_by) == (
        Status.FIXED, fixed_at, tree.users["building"],
    )  # fmt: skip
    assert [p.kind for p in finding.photos.all()] == ["evidence", "fix"]

    # Another inspector's re-check closes it; the change log has each step.
    services.finding_recheck(
        actor=tree.users["community"], finding=finding, passed=True,
        at=NOW + dt.timedelta(days=2),
    )  # fmt: skip
    finding.refresh_from_db()
    assert finding.status == Status.CLOSED
    assert finding.rechecked_by == tree.users["community"]
    changes = ChangeLog.objects.filter(object_type="supervision.finding", object_id=finding.pk)
    assert [c.changes.get("status") for c in changes.order_by("at", "id")] == [
        [None, "open"], ["open", "fixed"], ["fixed", "closed"],
    ]  # fmt: skip


def test_recheck_reopens_then_closes(tree, world):
    finding = _inspect_building(tree, world).findings.get()
    services.finding_fix(
        actor=tree.users["building"], finding=finding, note="整改", photos=photo(),
        at=NOW + dt.timedelta(hours=5),
    )  # fmt: skip
    reopen_at = NOW + dt.timedelta(days=1)
    with pytest.raises(DomainError) as failed:
        services.finding_recheck(
            actor=tree.users["community"], finding=finding, passed=False, at=reopen_at
        )
    assert failed.value.problems[0].field == "note"
    services.finding_recheck(
        actor=tree.users["community"], finding=finding, passed=False, note="记录仍缺两天",
        at=reopen_at,
    )  # fmt: skip
    finding.refresh_from_db()
    # Back to open with a new deadline from the re-check, told to the chief again.
    assert (finding.status, finding.reopened) == (Status.OPEN, 1)
    assert finding.due_at == reopen_at + dt.timedelta(days=3)
    assert Delivery.objects.filter(
        notification__kind=services.REOPENED_KIND, person=world.building_chief
    ).exists()
    services.finding_fix(
        actor=tree.users["building"], finding=finding, note="补齐", photos=photo(),
        at=reopen_at + dt.timedelta(hours=2),
    )  # fmt: skip
    services.finding_recheck(
        actor=tree.users["street"], finding=finding, passed=True,
        at=reopen_at + dt.timedelta(hours=3),
    )  # fmt: skip
    finding.refresh_from_db()
    assert (finding.status, finding.reopened) == (Status.CLOSED, 1)


def test_recheck_by_the_fixer_refused(tree, world):
    finding = _inspect_building(tree, world).findings.get()
    # The grid's chief (staff over the building) reports the fix on the chief's behalf.
    services.finding_fix(
        actor=tree.users["grid"], finding=finding, note="整改", photos=photo(),
        at=NOW + dt.timedelta(hours=1),
    )  # fmt: skip
    for fixer in (tree.users["grid"], tree.users["building"]):  # who fixed, who is responsible
        with pytest.raises(DomainError) as refused:
            services.finding_recheck(
                actor=fixer, finding=finding, passed=True, at=NOW + dt.timedelta(hours=2)
            )
        assert refused.value.problems[0].field == "rechecked_by"
    finding.refresh_from_db()
    assert (finding.status, finding.rechecked_at) == (Status.FIXED, None)
    # A re-check of a finding with no fix reported is refused too.
    other = _inspect_building(tree, world, item=world.building_items[1], photos=[])
    with pytest.raises(Conflict):
        services.finding_recheck(
            actor=tree.users["community"], finding=other.findings.get(), passed=True
        )


def test_finding_without_required_evidence_refused_nothing_written(tree, world):
    before = Inspection.objects.count(), Finding.objects.count(), Delivery.objects.count()
    with pytest.raises(DomainError) as refused:
        services.inspection_record(
            actor=tree.users["street"],
            team=world.team,
            place=world.checkpoint,
            findings=[
                FindingIn(severity="minor", item=world.cp_items[1]),  # no photo needed
                FindingIn(severity="major", item=world.cp_items[0]),  # photo needed
                FindingIn(severity="dire", text="x", photos=photo()),
            ],
            at=NOW,
        )
    assert [(p.field, p.row, p.message) for p in refused.value.problems] == [
        ("photos", 2, "finding 2: “登记台账完整” needs an evidence photo."),
        ("severity", 3, "finding 3: choose a severity."),
    ]
    assert (Inspection.objects.count(), Finding.objects.count(), Delivery.objects.count()) == before
    # A fix with no photo is refused too, naming the field.
    finding = _inspect_building(tree, world).findings.get()
    with pytest.raises(DomainError) as refused:
        services.finding_fix(actor=tree.users["building"], finding=finding, note="好了", photos=[])
    assert refused.value.problems[0].field == "photos"
    finding.refresh_from_db()
    assert finding.status == Status.OPEN


def test_responsible_from_the_posts(tree, world):
    # A place: its point chief; a building with a chief: that chief; without: the grid chief.
    inspection = services.inspection_record(
        actor=tree.users["street"], team=world.team, place=world.checkpoint,
        findings=[FindingIn(severity="critical", item=world.cp_items[0], photos=photo())], at=NOW,
    )  # fmt: skip
    assert inspection.findings.get().responsible == world.point_chief
    assert inspection.findings.get().due_at == NOW + dt.timedelta(days=1)
    other = _inspect_building(tree, world, building=tree.buildings[1])
    assert other.findings.get().responsible == world.grid_chief
    assert other.findings.get().responsible_as == "grid_chief"
    # A guard point at a building (its row's building column is that building's): its chief.
    gate = place_create(
        node=tree.buildings[0], name="111号楼门岗", kind="guard_point", chief=world.grid_chief,
        opened_on=dt.date(2026, 12, 1),
    )  # fmt: skip
    item = services.checklist_item_add(
        actor=tree.users["street"], node=tree.street, kind="guard_point", text="测温登记"
    )
    at_gate = services.inspection_record(
        actor=tree.users["street"], team=world.team, place=gate,
        findings=[FindingIn(severity="minor", item=item, photos=photo())], at=NOW,
    )  # fmt: skip
    assert (at_gate.place, at_gate.target_building, at_gate.building_id) == (
        gate, None, tree.buildings[0].pk,
    )  # fmt: skip
    assert at_gate.findings.get().building_id == tree.buildings[0].pk
    # A building with nobody above it on the posts: refused, nothing written.
    with pytest.raises(DomainError) as refused:
        _inspect_building(tree, world, building=tree.buildings[2])
    assert refused.value.problems[0].field == "responsible"


def test_overdue_list_and_ledger(tree, world):
    late = _inspect_building(tree, world, severity="critical").findings.get()  # due +1 day
    later = _inspect_building(
        tree, world, building=tree.buildings[1], severity="major"
    ).findings.get()  # due +3 days
    _inspect_building(tree, world, severity="minor", item=world.building_items[1])  # +7 days
    closed = _inspect_building(tree, world, item=world.building_items[1]).findings.get()
    services.finding_fix(
        actor=tree.users["building"], finding=closed, note="好", photos=photo(), at=NOW
        + dt.timedelta(hours=1),
    )  # fmt: skip
    services.finding_recheck(
        actor=tree.users["community"], finding=closed, passed=True, at=NOW + dt.timedelta(hours=2)
    )
    now = NOW + dt.timedelta(days=4)
    street = tree.users["street"]
    assert queries.overdue(street, now=now) == [late, later]
    assert queries.overdue(street, tree.buildings[1], now=now) == [later]
    assert queries.overdue(tree.users["other_grid"], now=now) == []  # outside its grid
    assert queries.overdue(street, now=NOW + dt.timedelta(hours=12)) == []
    whole, lines = queries.ledger(street, tree.grids[0], now=now)
    assert (whole.total, whole.closed, whole.open, whole.overdue) == (4, 1, 3, 2)
    assert whole.closure_rate == 0.25
    assert [(line.node.name, line.total, line.closed) for line in lines] == [
        ("111号楼", 3, 1), ("112号楼", 1, 0),
    ]  # fmt: skip
    # The same item failed again at the same building: recorded as a repeat.
    assert closed.repeat_of is not None
    assert list(queries.repeated_failures(street)) == [closed]


def test_daily_figures_and_patrols(tree, world):
    admin = tree.users["admin"]
    second = _person("楼长二", "13900000022")
    people.post_assign(
        person=second, role="building_chief", node=tree.buildings[1], actor=admin,
        started_on=dt.date(2026, 12, 1),
    )  # fmt: skip
    day = dt.date(2026, 12, 7)
    services.patrol_record(
        actor=tree.users["building"], building=tree.buildings[0],
        failed=[world.building_items[1]], day=day, at=NOW,
    )  # fmt: skip
    with pytest.raises(Conflict) as twice:
        services.patrol_record(actor=tree.users["building"], building=tree.buildings[0], day=day)
    assert twice.value.problems[0].field == "day"
    _inspect_building(tree, world, severity="critical", at=NOW - dt.timedelta(days=2))
    _inspect_building(tree, world, severity="minor", item=world.building_items[1])
    figures = queries.daily_figures(day, [g.pk for g in tree.grids])
    assert figures == {
        tree.grids[0].pk: {"findings_open": 2, "findings_overdue": 1, "patrols_missed": 1}
    }


def test_stored_photo_has_no_metadata(tree, world):
    finding = _inspect_building(tree, world, photos=photo(b"GPS 1,2")).findings.get()
    stored = Photo.objects.get(finding=finding)
    with stored.file.open("rb") as f:
        assert b"GPS" not in f.read()


def test_daily_report_rolls_the_figures_up_the_tree(tree, world):
    from bastion.reports import queries as report_queries
    from bastion.reports.services import report_compute

    day = NOW.date()
    Post.objects.update(started_on=dt.date(2026, 12, 1))  # chiefs since before the day
    # Overdue on the day: found two days before, critical (one day to fix).
    _inspect_building(tree, world, severity="critical", at=NOW - dt.timedelta(days=2))
    _inspect_building(tree, world, building=tree.buildings[1], severity="minor")
    report_compute(day=day, now=NOW + dt.timedelta(hours=12))
    street = tree.users["street"]
    totals = report_queries.day_totals(street, tree.street, day)
    # The one building chief (of 111) did not patrol; two findings open, one overdue.
    assert (totals["findings_open"], totals["findings_overdue"], totals["patrols_missed"]) == (
        2, 1, 1,
    )  # fmt: skip
    by_grid = dict(report_queries.children_figures(street, tree.communities[0], day))
    assert by_grid[tree.grids[0]]["findings_open"] == 2
