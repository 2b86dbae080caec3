"""Figures on the small tree, exact: the daily report's values per grid for a day (and the
rollup the report makes of them), overdue lists, time-to-claim and time-to-close per track."""

import datetime as dt

import pytest
from django.utils import timezone

from bastion.reports import registry
from bastion.reports.queries import day_totals
from bastion.reports.services import report_compute
from bastion.requests import queries, services
from bastion.requests.models import Request
from bastion.requests.tests.conftest import households_of

D = timezone.localdate() - dt.timedelta(days=1)


def at(day_offset: int, hour: int, minute: int = 0) -> dt.datetime:
    """A local moment on day D + day_offset."""
    return timezone.make_aware(
        dt.datetime.combine(D + dt.timedelta(days=day_offset), dt.time(hour, minute))
    )


@pytest.fixture
def day_world(tree, staff, courier):
    """A known day D on grids[0] and grids[1] of the first community (see the asserts)."""
    s = tree.users["community"]
    a = households_of(tree.grids[0])[0]
    b = households_of(tree.grids[1])[0]

    def new(household, when, title="r"):
        return services.request_create(
            actor=s, household=household, channel="phone", category="drainage", title=title, at=when
        )

    def handled(household, created, claimed, done, *, rated=None, rating=None, closed=None):
        r = new(household, created)
        r = services.request_triage(actor=s, request=r, track="handle_now", at=created)
        r = services.request_claim(actor=s, request=r, at=claimed)
        if closed is not None:
            return services.request_close(actor=s, request=r, result="已处理", at=closed)
        r = services.request_done(actor=s, request=r, result="已处理", at=done)
        if rated is not None:
            r = services.request_rate(actor=s, request=r, rating=rating, at=rated)
        return r

    m1 = services.meeting_schedule(
        actor=s, community=tree.communities[0], title="m1", starts_at=at(-1, 12)
    )
    m2 = services.meeting_schedule(
        actor=s, community=tree.communities[0], title="m2", starts_at=at(0, 13)
    )
    handled(a, at(0, 8), at(0, 9), at(0, 11), rated=at(0, 12), rating=5)  # r1
    handled(a, at(0, 8), at(0, 8, 20), None, closed=at(0, 15))  # r2
    r3 = new(a, at(-1, 10))
    r3 = services.request_triage(actor=s, request=r3, track="consult", at=at(-1, 10, 30))
    assert r3.meeting == m1
    r3 = services.request_assign(
        actor=s, request=r3, assignee="物业", due_on=D + dt.timedelta(7), at=at(0, 14)
    )
    services.request_done(actor=s, request=r3, result="修好", at=at(0, 16))
    new(a, at(0, 20))  # r4: still new
    handled(b, at(0, 10), at(0, 10, 5), at(0, 10, 30), rated=at(0, 11), rating=3)  # r5
    r6 = new(b, at(-2, 9))
    r6 = services.request_triage(actor=s, request=r6, track="consult", at=at(-2, 9))
    r6 = services.request_assign(
        actor=s, request=r6, assignee="供热公司", due_on=D + dt.timedelta(3), at=at(-1, 13)
    )
    r6 = services.request_done(actor=s, request=r6, result="已维修", at=at(-1, 18))
    r6 = services.request_report_back(actor=s, request=r6, meeting=m2, at=at(0, 13, 30))
    services.request_rate(actor=s, request=r6, rating=4, at=at(0, 14))

    def errand(household, when):
        return services.errand_order(
            actor=s,
            household=household,
            urgency="normal",
            items=[services.ItemInput("米")],
            at=when,
        )

    e1 = errand(a, at(0, 9))
    e1 = services.errand_accept(actor=s, errand=e1, at=at(0, 9, 5))
    e1 = services.errand_assign(actor=s, errand=e1, courier=courier, at=at(0, 9, 10))
    e1 = services.errand_pick_up(actor=s, errand=e1, at=at(0, 9, 30))
    services.errand_deliver(actor=s, errand=e1, code=e1.delivery_code, at=at(0, 10))
    errand(a, at(0, 9))  # e2: open
    e3 = errand(a, at(-1, 9))
    services.errand_cancel(actor=s, errand=e3, reason="不要了", at=at(0, 8))
    e4 = errand(b, at(0, 11))  # delivered only today: open at the end of D
    e4 = services.errand_accept(actor=s, errand=e4)
    e4 = services.errand_assign(actor=s, errand=e4, courier=courier)
    e4 = services.errand_pick_up(actor=s, errand=e4)
    services.errand_deliver(actor=s, errand=e4, code=e4.delivery_code)
    return tree


def test_daily_figures_exact(day_world):
    tree = day_world
    g0, g1, g2 = (g.pk for g in tree.grids[:3])
    figures = queries.daily_figures(D, [g0, g1, g2])
    assert figures[g0] == {
        "requests_collected": 3,
        "requests_handled_now": 2,
        "requests_assigned": 1,
        "requests_reported_back": 0,
        "requests_rated": 1,
        "requests_satisfied": 1,
        "requests_open": 2,
        "errands_ordered": 2,
        "errands_delivered": 1,
        "errands_open": 1,
    }
    assert figures[g1] == {
        "requests_collected": 1,
        "requests_handled_now": 1,
        "requests_assigned": 0,
        "requests_reported_back": 1,
        "requests_rated": 2,
        "requests_satisfied": 1,
        "requests_open": 0,
        "errands_ordered": 1,
        "errands_delivered": 0,
        "errands_open": 1,
    }
    assert set(figures[g2].values()) == {0}
    before = queries.daily_figures(D - dt.timedelta(days=1), [g0, g1])
    assert before[g0]["requests_collected"] == 1 and before[g0]["requests_open"] == 1
    assert before[g1]["requests_assigned"] == 1 and before[g1]["requests_open"] == 1
    assert before[g1]["errands_ordered"] == 0 and before[g0]["errands_open"] == 1


def test_registered_into_the_daily_report_and_rolled_up(day_world):
    tree = day_world
    keys = registry.figure_keys()
    assert {
        "requests_collected",
        "requests_handled_now",
        "requests_assigned",
        "requests_reported_back",
        "requests_satisfied",
    } <= set(keys)
    report_compute(day=D)
    community = day_totals(tree.users["admin"], tree.communities[0], D)
    assert (
        community["requests_collected"],
        community["requests_handled_now"],
        community["requests_assigned"],
        community["requests_reported_back"],
        community["requests_rated"],
        community["requests_satisfied"],
    ) == (4, 3, 1, 1, 3, 2)
    street = day_totals(tree.users["admin"], tree.street, D)
    assert street["requests_collected"] == 4


def test_node_figures_and_satisfaction(day_world):
    tree = day_world
    start, end = at(0, 0), at(1, 0)
    own, children = queries.children_figures(
        tree.users["admin"], tree.communities[0], start, end, now=at(1, 0)
    )
    assert own.figures["requests_collected"] == 4 and own.satisfaction == 67
    assert [(c.node, c.figures["requests_handled_now"]) for c in children] == [
        (tree.grids[0], 2),
        (tree.grids[1], 1),
    ]
    assert queries.satisfaction({"requests_rated": 0}) is None


def test_overdue_requests_and_errands(tree, staff, household, meetings):
    now = timezone.now()
    h = dt.timedelta(hours=1)

    def req(created, **moves):
        r = services.request_create(
            actor=staff,
            household=household,
            channel="phone",
            category="water",
            title="x",
            at=created,
        )
        if "triaged" in moves:
            r = services.request_triage(
                actor=staff, request=r, track=moves.get("track", "handle_now"), at=moves["triaged"]
            )
        if moves.get("claim"):
            r = services.request_claim(actor=staff, request=r, at=moves["triaged"])
        if "due_on" in moves:
            r = services.request_assign(
                actor=staff, request=r, assignee="x", due_on=moves["due_on"]
            )
        return r

    today = timezone.localdate(now)
    late = {
        req(now - 25 * h).pk,
        req(now - 30 * h, triaged=now - 25 * h).pk,
        req(now - 30 * h, triaged=now - 25 * h, claim=True).pk,
        req(
            now - 30 * h, triaged=now - 30 * h, track="consult", due_on=today - dt.timedelta(days=1)
        ).pk,
    }
    on_time = {
        req(now - 23 * h).pk,
        req(now - 30 * h, triaged=now - 23 * h, claim=True).pk,
        req(now - 30 * h, triaged=now - 30 * h, track="consult", due_on=today).pk,
        req(now - 90 * 24 * h, triaged=now - 90 * 24 * h, track="consult").pk,  # waits
    }
    found = set(Request.objects.filter(queries.request_overdue_q(now)).values_list("pk", flat=True))
    assert found == late and not found & on_time
    assert {r.pk for r in queries.overdue_requests(staff, now)} == late
    assert not queries.overdue_requests(tree.users["other_grid"], now).exists()

    def errand(urgency, hours):
        return services.errand_order(
            actor=staff,
            household=household,
            urgency=urgency,
            items=[services.ItemInput("药")],
            at=now - hours * h,
        )

    late_errands = {errand("medicine", 3).pk, errand("urgent", 5).pk, errand("normal", 25).pk}
    fine = {errand("medicine", 1).pk, errand("urgent", 3).pk, errand("normal", 23).pk}
    done = errand("medicine", 5)
    services.errand_cancel(actor=staff, errand=done, reason="不要了")
    assert {e.pk for e in queries.overdue_errands(staff, now)} == late_errands
    assert not fine & late_errands


def test_time_to_claim_and_close_per_track(tree, staff, household, meetings):
    t0 = timezone.now() - dt.timedelta(days=20)
    h = dt.timedelta(hours=1)
    for claim_h, close_h in ((2, 5), (4, 9), (9, 30)):
        r = services.request_create(
            actor=staff, household=household, channel="phone", category="water", title="x", at=t0
        )
        r = services.request_triage(actor=staff, request=r, track="handle_now", at=t0)
        r = services.request_claim(actor=staff, request=r, at=t0 + claim_h * h)
        r = services.request_done(actor=staff, request=r, result="ok", at=t0 + claim_h * h)
        services.request_rate(actor=staff, request=r, rating=5, at=t0 + close_h * h)
    r = services.request_create(
        actor=staff, household=household, channel="phone", category="water", title="x", at=t0
    )
    r = services.request_triage(actor=staff, request=r, track="consult", at=t0)
    Request.objects.filter(pk=r.pk).update(meeting=meetings[0])
    r.refresh_from_db()
    r = services.request_assign(
        actor=staff, request=r, assignee="x", due_on=timezone.localdate(), at=t0 + 72 * h
    )
    services.request_create(
        actor=staff,
        household=household,
        channel="phone",
        category="water",
        title="never triaged",
        at=t0,
    )
    timing = {t.track: t for t in queries.timings(staff, None, t0 - h, t0 + h)}
    hn, co = timing["handle_now"], timing["consult"]
    assert (hn.count, hn.claimed, hn.claim_median, hn.claim_mean) == (3, 3, 4.0, 5.0)
    assert (hn.closed, hn.close_median, hn.close_mean) == (3, 9.0, 14.7)
    assert (co.count, co.claimed, co.claim_median, co.closed, co.close_median) == (
        1,
        1,
        72.0,
        0,
        None,
    )
