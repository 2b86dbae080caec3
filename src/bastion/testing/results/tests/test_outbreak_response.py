"""The outbreak response from testing's side: a positive single-tube retest proposes a case;
confirming it opens the bundle, whose home-sampling round is testing's (over the sealed area
alone, single tubes); the area is lifted only after the rule's negative rounds, counted from
the rounds' real results."""

import datetime as dt

import pytest
from django.utils import timezone

from bastion.core.errors import DomainError
from bastion.incidents.models import ControlArea
from bastion.incidents.response import queries as response_queries
from bastion.incidents.response import services as response
from bastion.incidents.response.models import Case, Task
from bastion.incidents.transfers.models import Transfer
from bastion.orders.models import Order
from bastion.people import services as people
from bastion.testing.conftest import person, scan
from bastion.testing.results import services
from bastion.testing.rounds import services as round_services
from bastion.testing.rounds.models import Round


def _import(testing, round_, *rows: tuple[str, str]):
    return services.results_import(
        actor=testing.admin,
        round=round_,
        rows=[services.ResultRow(i + 2, tube, result) for i, (tube, result) in enumerate(rows)],
    )


def _negative_round(testing, round_, station, residents, prefix):
    round_services.station_close(actor=testing.admin, station=station)
    round_services.station_open(actor=testing.admin, station=station, round=round_)
    tubes = []
    for i, r in enumerate(residents):
        assert scan(station, f"{prefix}-{i:04d}", r.id_number, single=True).ok
        tubes.append((f"{prefix}-{i:04d}", "negative"))
    _import(testing, round_, *tubes)


def test_a_positive_retest_through_proposal_bundle_and_lifting(testing, settings):
    settings.BASTION_LIFT_QUIET_DAYS = 14
    settings.BASTION_LIFT_NEGATIVE_ROUNDS = 2
    tree = testing.tree
    building = tree.buildings[0]
    chief = person(tree.units[1], "楼栋长甲", "13600000021")
    people.post_assign(person=chief, role="building_chief", node=building)
    residents = testing.residents_of(building)
    # A positive pool, its five people retested in single tubes: one is positive.
    for r in residents[:5]:
        assert scan(testing.stations[0], "P-0001", r.id_number).ok
    _import(testing, testing.round, ("P-0001", "positive"))
    assert Case.objects.count() == 0  # a pool is not a case
    for i, r in enumerate(residents[:5]):
        assert scan(testing.stations[0], f"S-000{i + 1}", r.id_number, single=True).retest
    _import(
        testing,
        testing.round,
        *[(f"S-000{i + 1}", "positive" if i == 2 else "negative") for i in range(5)],
    )
    [case] = Case.objects.all()
    assert (case.resident_id, case.source, case.state) == (residents[2].pk, "retest", "proposed")
    assert case.reference.startswith("S-0003:")
    # The same results again propose nothing new.
    _import(testing, testing.round, ("S-0003", "positive"))
    assert Case.objects.count() == 1

    bundle = response.case_confirm(actor=testing.admin, case=case)
    assert bundle.node == building
    tasks = {t.kind: t for t in Task.objects.filter(bundle=bundle)}
    # Home sampling: testing's round over the sealed building alone, single tubes.
    home = Round.objects.get(pk=tasks["sampling"].ref_id)
    assert (home.node, home.pool_size, home.sealed_tube) == (building, 1, "single")
    assert tasks["sampling"].state == "in_progress"
    # The order to the chiefs of the sealed area.
    order = Order.objects.get(pk=tasks["order"].ref_id)
    assert order.node == building and order.recipients.get().person == chief
    # The case's own transfer to hospital, attached to the bundle and listed on its board.
    transfer = Transfer.objects.get(pk=tasks["transfers"].ref_id)
    assert (transfer.resident_id, transfer.destination, transfer.source, transfer.source_id) == (
        residents[2].pk,
        "hospital",
        "response",
        bundle.pk,
    )
    assert response_queries.transfers_of(testing.admin, bundle) == [transfer]

    sealed = ControlArea.objects.get(node=building, lifted_at__isnull=True)
    assert sealed.level == "sealed"
    with pytest.raises(DomainError) as e:
        response.area_lift(actor=testing.admin, area=sealed)
    assert len(e.value.problems) == 2  # neither the quiet days nor the rounds
    # Fifteen days quiet (moved back by hand), and the home round all negative: one round.
    past = timezone.now() - dt.timedelta(days=15)
    Case.objects.update(reported_at=past)
    ControlArea.objects.filter(pk=sealed.pk).update(since=past)
    sealed.refresh_from_db()
    _negative_round(testing, home, testing.home_team, residents, "H1")
    check = response_queries.lift_check(sealed)
    assert (check.days_ok, check.negative_rounds) == (True, 1)
    with pytest.raises(DomainError) as e:
        response.area_lift(actor=testing.admin, area=sealed)
    assert [p.field for p in e.value.problems] == ["area"]
    assert ControlArea.objects.get(pk=sealed.pk).lifted_at is None
    # The first round, positive since the quiet days began, never counted; a second
    # negative one does.
    now = timezone.now()
    second = round_services.round_open(
        actor=testing.admin,
        node=building,
        name="复核轮",
        starts_at=now - dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(hours=4),
        pool_size=1,
        home=True,
    )
    _negative_round(testing, second, testing.home_team, residents, "H2")
    assert response_queries.lift_check(sealed).negative_rounds == 2
    assert response.area_lift(actor=testing.admin, area=sealed).lifted_at is not None
