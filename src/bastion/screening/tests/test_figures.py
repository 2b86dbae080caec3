"""The daily figures screening gives the reports module: exact per grid and per day, as at the
end of that day, computed with one GROUP BY per table whatever the number of grids."""

import datetime as dt
import uuid

from bastion.geo.models import Resident
from bastion.reports import registry
from bastion.screening import services
from bastion.screening.models import Callback, FollowUp
from bastion.screening.queries import FIGURES, building_completion, daily_figures
from bastion.screening.tests.conftest import walking_order
from bastion.screening.tests.test_call_lists import csv_file


def fever(household) -> list[services.FindingInput]:
    resident = Resident.objects.filter(household=household).order_by("id").first()
    return [services.FindingInput(resident_id=resident.pk, temperature="38.6")]


def figures(**values) -> dict[str, int]:
    return dict.fromkeys(FIGURES, 0) | values


def test_daily_figures_are_exact_per_grid_and_day(
    tree, campaign, mark, today, django_assert_num_queries
):
    h = walking_order(tree.grids[0])
    mark(h[0], "reached", "visit", days_ago=3)
    mark(h[1], "not_reachable", days_ago=3)
    mark(h[1], "reached", "phone", days_ago=2, findings=fever(h[1]))
    mark(h[2], "away", days_ago=2)
    mark(h[3], "not_reachable", days_ago=2)
    mark(h[3], "not_reachable", days_ago=1)
    mark(h[4], "not_reachable", days_ago=1)
    mark(walking_order(tree.grids[2])[0], "reached", "chat", days_ago=1)
    grids = [g.pk for g in tree.grids]
    day = {n: today - dt.timedelta(days=n) for n in range(5)}
    yesterday_before = daily_figures(day[1], grids)

    mark(h[4], "reached", "visit")
    mark(h[5], "reached", "chat", findings=fever(h[5]))
    services.follow_up_close(
        actor=tree.users["grid"], follow_up=FollowUp.objects.get(opened_on=day[2]), outcome="退烧"
    )
    callee = Resident.objects.filter(household=h[6]).first()
    other = Resident.objects.filter(grid_id=tree.grids[3].pk).first()
    services.call_list_import(
        actor=tree.users["street"],
        node=tree.street,
        kind="pharmacy",
        filename="list.csv",
        content=csv_file(
            [
                (callee.name, callee.id_number, "", "", "退烧", "", ""),
                (other.name, other.id_number, "", "", "抗病毒", "", ""),
            ]
        ),
    )
    services.callback_record(
        actor=tree.users["grid"],
        client_id=uuid.uuid4(),
        fever_now=True,
        callback=Callback.objects.get(resident=callee),
    )

    with django_assert_num_queries(4):  # one GROUP BY per table, for any number of grids
        result = daily_figures(day[0], grids)
    g0, g1, g2, g3 = grids
    assert result == {
        g0: figures(
            households_screened=5,
            households_left=11,
            households_not_reachable=1,
            fever_found=2,
            callbacks_done=1,
            follow_ups_open=2,
        ),
        g1: figures(households_left=16),
        g2: figures(households_screened=1, households_left=15),
        g3: figures(households_left=16, callbacks_open=1),
    }
    assert {n: daily_figures(day[n], [g0])[g0] for n in (1, 2, 3, 4)} == {
        1: figures(
            households_screened=3, households_left=13, households_not_reachable=2, follow_ups_open=1
        ),
        2: figures(
            households_screened=3,
            households_left=13,
            households_not_reachable=1,
            fever_found=1,
            follow_ups_open=1,
        ),
        3: figures(households_screened=1, households_left=15, households_not_reachable=1),
        4: figures(),  # before the campaign: nothing running, nothing left
    }
    # Today's work does not change what yesterday's figures were.
    assert daily_figures(day[1], grids) == yesterday_before


def test_building_board_and_registration(tree, campaign, mark):
    h = walking_order(tree.grids[0])
    for household, outcome in zip(
        h[:4], ["reached", "away", "not_reachable", "reached"], strict=True
    ):
        mark(household, outcome, "phone" if outcome == "reached" else "")
    first, second = h[0].building_id, h[8].building_id
    assert building_completion([first, second]) == {first: 3 / 8, second: 0.0}
    module = next(m for m in registry.modules() if m.name == "screening")
    assert module.compute is daily_figures
    assert [f.key for f in module.figures] == list(FIGURES)
    assert registry.building_status().compute is building_completion


def test_the_report_and_the_screening_page_count_one_cleared_for_one_grid(
    tree, campaign, mark, today
):
    """One definition and one label: a grid's "cleared" on the chief's page, the campaign's
    coverage and the daily report's figure are the same number (reached or away)."""
    from django.utils import timezone

    from bastion.reports import queries as report_queries
    from bastion.reports import services as report_services
    from bastion.screening import queries

    h = walking_order(tree.grids[0])
    mark(h[0], "reached", "visit")
    mark(h[1], "away")
    mark(h[2], "not_reachable")
    street = tree.users["street"]
    grid = tree.grids[0]
    page = queries.grid_progress(street, campaign, grid, today)
    coverage = dict(
        (node.pk, counts["cleared"])
        for node, counts, _chief in queries.coverage(street, campaign, tree.communities[0]).children
    )
    report_services.report_compute(day=today)
    data = report_queries.dashboard_data(street, grid, today, timezone.now())
    figure = next(f for f in data["figures"] if f["key"] == "households_screened")
    assert (page["cleared"], coverage[grid.pk], figure["value"]) == (2, 2, 2)
    assert str(figure["label"]) == "Households cleared"
    assert str(FIGURES["households_screened"]) == "Households cleared"
