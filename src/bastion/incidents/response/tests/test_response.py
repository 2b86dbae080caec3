"""The outbreak response in `incidents`: a case proposes its areas, a commander adjusts and
confirms them, one bundle of tasks opens (once, however often confirmed), tasks move on,
disinfections are recorded, and an area is lifted only under the rule. Bad input is refused
naming the field, nothing written."""

import datetime as dt

import pytest
from django.utils import timezone

from bastion.core.errors import DomainError
from bastion.core.models import ChangeLog
from bastion.geo.models import Household, Resident
from bastion.incidents.models import ControlArea
from bastion.incidents.response import queries, registry, services
from bastion.incidents.response.models import (
    Bundle,
    Case,
    Disinfection,
    ProposedArea,
    Task,
    TaskState,
)
from bastion.people import services as people
from bastion.screening.models import CallList


def _case(tree, **kw):
    resident = Resident.objects.filter(unit=tree.units[0]).order_by("pk").first()
    return services.case_record(
        actor=tree.users["admin"],
        node=tree.units[0],
        name=resident.name,
        resident=resident,
        **kw,
    )


def _proposal(case) -> list[tuple[str, str]]:
    return [
        (p.node.name, p.level)
        for p in ProposedArea.objects.filter(case=case).select_related("node").order_by("pk")
    ]


def test_a_case_proposes_its_building_sealed_grid_controlled_and_community_precaution(tree):
    case = _case(tree)
    assert case.state == "proposed"
    assert _proposal(case) == [
        ("111号楼", "sealed"),
        ("网格1-1", "controlled"),
        ("社区1", "precaution"),
    ]
    # Read twice from the same source (an import, a retest) it is the same case.
    again = services.case_record(
        actor=None, node=tree.units[0], name="x", source="import", reference="DC-1"
    )
    assert (
        services.case_record(
            actor=None, node=tree.units[0], name="y", source="import", reference="DC-1"
        )
        == again
    )


def test_bad_cases_and_proposals_are_refused_naming_the_field(tree):
    future = timezone.now() + dt.timedelta(hours=2)
    with pytest.raises(DomainError) as e:
        services.case_record(actor=None, node=tree.grids[0], name="", reported_at=future)
    assert {p.field for p in e.value.problems} == {"node", "name", "reported_at"}
    case = _case(tree)
    with pytest.raises(DomainError) as e:
        services.proposal_adjust(
            actor=None,
            case=case,
            areas_=[(tree.buildings[2], "sealed"), (tree.grids[0], "controlled")],
        )
    assert [(p.field, p.row) for p in e.value.problems] == [("node", 1)]
    with pytest.raises(DomainError) as e:
        services.proposal_adjust(actor=None, case=case, areas_=[(tree.grids[0], "controlled")])
    assert [p.field for p in e.value.problems] == ["level"]
    assert _proposal(case) == [
        ("111号楼", "sealed"),
        ("网格1-1", "controlled"),
        ("社区1", "precaution"),
    ]


def test_confirming_sets_the_adjusted_areas_and_opens_one_bundle_of_every_task(tree):
    admin = tree.users["admin"]
    home = Household.objects.filter(unit=tree.units[1]).order_by("room").first()
    chief = people.person_create(name="楼栋长甲", kind="cadre", phone="13600000011", home=home)
    people.post_assign(person=chief, role="building_chief", node=tree.buildings[0])
    case = _case(tree)
    # The commander seals only the unit, and puts the building under control.
    services.proposal_adjust(
        actor=admin,
        case=case,
        areas_=[(tree.units[0], "sealed"), (tree.buildings[0], "controlled")],
    )
    bundle = services.case_confirm(actor=admin, case=case)
    assert services.case_confirm(actor=tree.users["street"], case=case) == bundle
    assert Bundle.objects.count() == 1
    assert bundle.node == tree.units[0]
    levels = {a.node.name: a.level for a in ControlArea.objects.filter(lifted_at__isnull=True)}
    assert levels == {"1单元": "sealed", "111号楼": "controlled"}
    assert sorted(Task.objects.filter(bundle=bundle).values_list("kind", flat=True)) == [
        "delivery",
        "disinfection",
        "dispatch",
        "order",
        "sampling",
        "tracing",
        "transfers",
    ]
    # Tracing opened a call list of source "tracing" on the case's grid.
    tracing = Task.objects.get(bundle=bundle, kind="tracing")
    assert tracing.state == "in_progress"
    call_list = CallList.objects.get(pk=tracing.ref_id)
    assert (call_list.kind, call_list.node_id) == ("tracing", tree.grids[0].pk)
    # The case's transfer to hospital is planned, attached to the bundle.
    transfers = Task.objects.get(bundle=bundle, kind="transfers")
    assert transfers.state == "in_progress"
    assert [t.pk for t in queries.transfers_of(admin, bundle)] == [transfers.ref_id]
    # No reserve cadre in the community: the dispatch task stays open, saying why.
    dispatch = Task.objects.get(bundle=bundle, kind="dispatch")
    assert (dispatch.state, dispatch.ref_id) == ("open", None)
    assert dispatch.note
    # Each task's owner: the building chief of the sealed area (from the posts).
    assert set(Task.objects.filter(bundle=bundle).values_list("owner", flat=True)) == {chief.pk}
    case.refresh_from_db()
    assert case.state == "confirmed"
    assert ChangeLog.objects.filter(object_type="incidents.bundle").count() == 1


def test_a_task_deadline_in_the_past_is_refused_and_nothing_changes(tree):
    admin = tree.users["admin"]
    bundle = services.case_confirm(actor=admin, case=_case(tree))
    task = Task.objects.get(bundle=bundle, kind="delivery")
    before = (task.deadline, task.state)
    with pytest.raises(DomainError) as e:
        services.task_update(
            actor=admin,
            task=task,
            state="done",
            deadline=timezone.now() - dt.timedelta(minutes=1),
        )
    assert [p.field for p in e.value.problems] == ["deadline"]
    task.refresh_from_db()
    assert (task.deadline, task.state) == before
    done = services.task_update(actor=admin, task=task, state="done")
    assert done.state == "done" and done.done_at is not None
    assert queries.board(bundle).done == 1


def test_disinfection_is_recorded_inside_the_sealed_area(tree):
    admin = tree.users["admin"]
    bundle = services.case_confirm(actor=admin, case=_case(tree))
    with pytest.raises(DomainError) as e:
        services.disinfection_record(
            actor=admin, node=tree.buildings[3], place="", agent="含氯消毒液", person="张三",
            bundle=bundle,
        )  # fmt: skip
    assert {p.field for p in e.value.problems} == {"place", "node"}
    assert Disinfection.objects.count() == 0
    row = services.disinfection_record(
        actor=admin, node=tree.units[1], place="1单元楼道", agent="含氯消毒液",
        person="张三", bundle=bundle,
    )  # fmt: skip
    assert row.bundle == bundle
    assert Task.objects.get(bundle=bundle, kind="disinfection").state == TaskState.IN_PROGRESS


def test_lifting_is_refused_naming_the_rule_until_it_holds(tree, settings, monkeypatch):
    settings.BASTION_LIFT_QUIET_DAYS = 14
    settings.BASTION_LIFT_NEGATIVE_ROUNDS = 2
    admin = tree.users["admin"]
    case = _case(tree)
    bundle = services.case_confirm(actor=admin, case=case)
    sealed = bundle.areas.get(level="sealed")
    rounds = {"n": 0}
    monkeypatch.setattr(registry, "ROUND_COUNTERS", [lambda *, node, since: rounds["n"]])
    with pytest.raises(DomainError) as e:
        services.area_lift(actor=admin, area=sealed)
    messages = [p.message for p in e.value.problems]
    assert len(messages) == 2
    assert "14" in messages[0] and "0" in messages[0]
    assert "2" in messages[1]
    sealed.refresh_from_db()
    assert sealed.lifted_at is None
    # Fifteen days on, one negative round: still refused, for the rounds only.
    past = timezone.now() - dt.timedelta(days=15)
    Case.objects.filter(pk=case.pk).update(reported_at=past)
    ControlArea.objects.filter(pk=sealed.pk).update(since=past)
    sealed.refresh_from_db()
    rounds["n"] = 1
    check = queries.lift_check(sealed)
    assert (check.quiet_days, check.days_ok, check.negative_rounds, check.ok) == (
        15,
        True,
        1,
        False,
    )
    with pytest.raises(DomainError):
        services.area_lift(actor=admin, area=sealed)
    rounds["n"] = 2
    lifted = services.area_lift(actor=admin, area=sealed)
    assert lifted.lifted_at is not None


def test_a_part_the_confirming_login_may_not_do_is_left_open_with_the_reason(tree):
    """Confirming without a login (an automatic confirmation, a script) still opens the
    bundle: the order, which needs an issuer in scope, stays open saying why."""
    home = Household.objects.filter(unit=tree.units[0]).order_by("room").first()
    chief = people.person_create(name="单元长甲", kind="cadre", phone="13600000012", home=home)
    people.post_assign(person=chief, role="unit_chief", node=tree.units[0])
    bundle = services.case_confirm(actor=None, case=_case(tree))
    order = Task.objects.get(bundle=bundle, kind="order")
    assert (order.state, order.ref_id) == ("open", None)
    assert order.note


def test_a_commander_confirms_only_areas_they_may_change(tree):
    """A grid chief may seal their building and control their grid, not put the whole
    community under precaution: the confirmation names that area, and nothing is set."""
    case = _case(tree)
    with pytest.raises(DomainError) as e:
        services.case_confirm(actor=tree.users["grid"], case=case)
    assert [(p.field, p.row) for p in e.value.problems] == [("node", 1)]
    assert "社区1" in e.value.problems[0].message
    assert not Bundle.objects.exists() and not ControlArea.objects.exists()
    services.proposal_adjust(
        actor=tree.users["grid"],
        case=case,
        areas_=[(tree.buildings[0], "sealed"), (tree.grids[0], "controlled")],
    )
    bundle = services.case_confirm(actor=tree.users["grid"], case=case)
    assert bundle.areas.count() == 2
