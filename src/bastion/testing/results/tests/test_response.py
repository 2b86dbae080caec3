"""The response to a positive pool: who is notified (exactly), once however often the results
are imported; the people held in place; each single-tube retest tracked to its result; the
time from the positive result to the last person retested and resulted, per pool and as the
round's median and maximum."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from bastion.accounts.services import token_issue
from bastion.notices.models import Delivery, Notification
from bastion.people import services as people
from bastion.people.models import Person
from bastion.testing.conftest import person, scan
from bastion.testing.results import queries, response, services
from bastion.testing.results.models import Retest, RetestState
from bastion.testing.rounds import services as round_services
from bastion.testing.scans.models import Tube


def _import(testing, *rows: tuple[str, str]):
    return services.results_import(
        actor=testing.admin,
        round=testing.round,
        rows=[services.ResultRow(i + 2, tube, result) for i, (tube, result) in enumerate(rows)],
    )


@pytest.fixture
def area(testing):
    """Who should act around grid 1 (and, to be left out, around grid 3 and community 2):
    a grid chief with no login and one with a login, a home-team sampler, police liaisons."""
    tree = testing.tree
    chief = person(tree.units[0], "网格长甲", "13600000001")
    people.post_assign(person=chief, role="grid_chief", node=tree.grids[0])
    other_chief = person(tree.units[4], "网格长乙", "13600000002")
    people.post_assign(person=other_chief, role="grid_chief", node=tree.grids[1])
    sampler = person(tree.units[1], "入户采样员", "13600000003")
    round_services.site_post_assign(
        actor=testing.admin, station=testing.home_team, role="sampler", person=sampler
    )
    far_team = round_services.home_team_add(
        actor=testing.admin, node=tree.grids[2], name="入户二队"
    )
    far_sampler = person(tree.units[8], "远处采样员", "13600000004")
    round_services.site_post_assign(
        actor=testing.admin, station=far_team, role="sampler", person=far_sampler
    )
    police = person(tree.units[2], "社区民警", "13600000005")
    people.post_assign(person=police, role="police_liaison", node=tree.communities[0])
    # The liaison has a login: the delivery carries both.
    Person.objects.filter(pk=police.pk).update(user=tree.users["building"])
    far_police = person(tree.units[8], "二社区民警", "13600000006")
    people.post_assign(person=far_police, role="police_liaison", node=tree.communities[1])
    return {
        "chief": chief,
        "sampler": sampler,
        "police": Person.objects.get(pk=police.pk),
    }


@pytest.fixture
def pool(testing, area):
    """Five residents of grid 1's first building in pooled tube P-0001."""
    residents = testing.residents_of(testing.tree.buildings[0])[:5]
    for r in residents:
        assert scan(testing.stations[0], "P-0001", r.id_number).ok
    return residents


def _recipients(notification: Notification) -> set[tuple]:
    return {
        (d.person.name if d.person else None, d.user.username if d.user else None, d.reason)
        for d in notification.deliveries.select_related("person", "user")
    }


def test_a_positive_pool_notifies_exactly_the_people_of_its_area(testing, area, pool):
    _import(testing, ("P-0001", "positive"))

    tube = Tube.objects.get(barcode="P-0001")
    notification = Notification.objects.get()
    assert (notification.kind, notification.source_type, notification.source_id) == (
        response.KIND_POSITIVE_POOL,
        "testing.tube",
        tube.pk,
    )
    assert notification.node == testing.tree.grids[0]  # all five live in grid 1
    assert notification.title == "Positive pool P-0001"
    assert "5 people" in notification.body and "111号楼" in notification.body
    assert notification.link == f"/testing/tubes/{tube.pk}/"
    assert _recipients(notification) == {
        ("网格长甲", None, "grid_chief"),  # the grid's chief by post, no login
        (None, "grid", "grid_chief"),  # the login holding the grid-chief role there
        ("入户采样员", None, "home_team"),  # the home team serving grid 1
        ("社区民警", "building", "police_liaison"),  # the community's liaison, with a login
        (None, "community", "community_staff"),  # every login with a role on the community
    }
    # Left out: grid 2's chief, grid 3's home team, community 2's liaison, street and city.


def test_each_reader_sees_a_pool_notification_in_their_language(testing, area, pool):
    _import(testing, ("P-0001", "positive"))
    delivery = Delivery.objects.get(user=testing.tree.users["grid"])
    page = reverse("notices:delivery", args=[delivery.pk])
    readers = (
        ("en", "Positive pool P-0001", "5 people"),
        ("zh-hans", "混管阳性 P-0001", "共 5 人"),
    )
    # (a request activates its language in this thread: the override puts the test's back)
    with translation.override(translation.get_language()):
        _read_in_each_language(testing, page, readers)


def _read_in_each_language(testing, page: str, readers) -> None:
    for language, title, words in readers:
        client = Client(headers={"accept-language": language})
        client.force_login(testing.tree.users["grid"])
        html = client.get(page).content.decode()
        assert f"<h1>{title}</h1>" in html and words in html
        token = token_issue(user=testing.tree.users["grid"])
        inbox = client.get("/api/v1/notices/inbox", headers={"authorization": f"Bearer {token}"})
        assert inbox.json()["items"][0]["notification"]["title"] == title


def test_a_pool_across_two_grids_notifies_both_grids_and_sits_on_the_community(testing, area):
    members = testing.residents_of(testing.tree.grids[0])[:4]
    members.append(testing.residents_of(testing.tree.grids[1])[0])
    for r in members:
        assert scan(testing.stations[0], "P-0002", r.id_number).ok
    _import(testing, ("P-0002", "positive"))

    notification = Notification.objects.get()
    assert notification.node == testing.tree.communities[0]
    names = {d.person.name if d.person else d.user.username for d in notification.deliveries.all()}
    assert {"网格长甲", "网格长乙", "grid", "other_grid"} <= names
    assert "远处采样员" not in names and "二社区民警" not in names


def test_importing_the_same_results_again_notifies_nobody_twice(testing, area, pool):
    _import(testing, ("P-0001", "positive"), ("P-0001", "阳性"))
    _import(testing, ("P-0001", "positive"))
    assert Notification.objects.count() == 1
    assert Delivery.objects.count() == 5

    # Sending it again (as after a new post) adds only who is missing, keeping receipts.
    tube = Tube.objects.get(barcode="P-0001")
    Delivery.objects.filter(reason="home_team").update(read_at=tube.resulted_at)
    newcomer = person(testing.tree.units[0], "新民警", "13600000009")
    people.post_assign(person=newcomer, role="police_liaison", node=testing.tree.communities[0])
    response.pool_notify(tube=tube, round_=testing.round)
    assert Notification.objects.count() == 1
    assert Delivery.objects.count() == 6
    assert Delivery.objects.get(person=newcomer).reason == "police_liaison"
    assert Delivery.objects.filter(read_at__isnull=False).count() == 1


def test_a_negative_or_invalid_tube_notifies_nobody(testing, area, pool):
    _import(testing, ("P-0001", "invalid"))
    assert not Notification.objects.exists()


def test_the_people_of_a_positive_pool_stay_in_place(testing, area, pool):
    _import(testing, ("P-0001", "positive"))
    tube = Tube.objects.get(barcode="P-0001")
    holds = list(Retest.objects.order_by("resident_id"))
    assert [h.resident_id for h in holds] == [r.pk for r in pool]
    assert {(h.hold_since, h.hold_until) for h in holds} == {(tube.resulted_at, None)}
    assert [r.pk for r in response.holds_of(testing.tree.users["grid"], pool[0].pk)] == [
        holds[0].pk
    ]
    assert response.holds_of(testing.tree.users["other_grid"], pool[0].pk) == []


def _states(testing) -> dict[int, str]:
    rows = response.with_state(queries.retests(testing.admin, testing.round))
    return {r.resident_id: r.state for r in rows}


def test_each_retest_is_tracked_to_its_result_and_the_time_to_the_last_person_measured(
    testing, area, pool
):
    station = testing.stations[0]
    _import(testing, ("P-0001", "positive"))
    assert set(_states(testing).values()) == {RetestState.PENDING}

    # Four are retested in single tubes; the fifth is not yet.
    for i, r in enumerate(pool[:4]):
        assert scan(station, f"S-000{i + 1}", r.id_number, single=True).retest
    states = _states(testing)
    assert [states[r.pk] for r in pool] == ["sampled"] * 4 + ["pending"]

    # The lab: two negative, one positive, one invalid (that one is due again).
    _import(
        testing,
        ("S-0001", "negative"),
        ("S-0002", "negative"),
        ("S-0003", "positive"),
        ("S-0004", "invalid"),
    )
    states = _states(testing)
    assert [states[r.pk] for r in pool] == [
        "negative",
        "negative",
        "positive",
        "invalid",
        "pending",
    ]
    retest = {r.resident_id: r for r in Retest.objects.select_related("tube")}
    assert retest[pool[0].pk].tube.barcode == "S-0001"
    assert retest[pool[3].pk].tube is None  # invalid: due again
    # A negative retest lifts the hold; a positive one and the rest stay in place.
    assert [retest[r.pk].hold_until is not None for r in pool] == [True, True] + [False] * 3

    [figures] = response.pool_responses(testing.admin, [Tube.objects.get(barcode="P-0001")])
    assert (figures.people, figures.sampled, figures.resulted, figures.positive) == (5, 3, 3, 1)
    assert figures.to_sampled is None and figures.to_resulted is None  # not everyone yet

    # The last two: the invalid one again, and the fifth.
    assert scan(station, "S-0005", pool[3].id_number, single=True).retest
    assert scan(station, "S-0006", pool[4].id_number, single=True).retest
    assert _states(testing)[pool[3].pk] == "sampled"
    _import(testing, ("S-0005", "negative"), ("S-0006", "negative"))
    states = _states(testing)
    assert [states[r.pk] for r in pool] == ["negative"] * 2 + ["positive"] + ["negative"] * 2

    # The times, set by hand: positive at 22:00; retests sampled 23:00, 01:00, 02:30, 04:00
    # and 06:15; their results 03:00 … 09:45.
    t0 = dt.datetime(2026, 11, 20, 22, 0, tzinfo=dt.UTC)
    Tube.objects.filter(barcode="P-0001").update(resulted_at=t0)
    sampled = [1, 3, 4.5, 6, 8.25]
    resulted = [5, 5, 7, 10, 11.75]
    for r, s_h, r_h in zip(pool, sampled, resulted, strict=True):
        Retest.objects.filter(resident=r).update(
            sampled_at=t0 + dt.timedelta(hours=s_h), resulted_at=t0 + dt.timedelta(hours=r_h)
        )
    [figures] = response.pool_responses(testing.admin, [Tube.objects.get(barcode="P-0001")])
    assert figures.all_sampled and figures.all_resulted
    assert figures.to_sampled == dt.timedelta(hours=8, minutes=15)
    assert figures.to_resulted == dt.timedelta(hours=11, minutes=45)
    assert response.hours(figures.to_sampled) == "8 h 15 min"


def test_the_round_figure_is_the_median_and_maximum_over_its_positive_pools(testing, area):
    residents = testing.residents_of(testing.tree.grids[0])
    station = testing.stations[0]
    pools = {"P-0001": residents[0:2], "P-0002": residents[2:4], "P-0003": residents[4:6]}
    for barcode, members in pools.items():
        for r in members:
            assert scan(station, barcode, r.id_number).ok
    _import(testing, *[(b, "positive") for b in pools])
    n = 0
    for members in pools.values():
        for r in members:
            n += 1
            assert scan(station, f"S-{n:04d}", r.id_number, single=True).retest
    # P-0003's second person has no result yet.
    _import(testing, *[(f"S-{i:04d}", "negative") for i in range(1, 6)])

    t0 = dt.datetime(2026, 11, 20, 22, 0, tzinfo=dt.UTC)
    # Hours from the positive result to the last person sampled: 2, 6, 3.
    last_sampled = {"P-0001": 2, "P-0002": 6, "P-0003": 3}
    for barcode, members in pools.items():
        Tube.objects.filter(barcode=barcode).update(resulted_at=t0)
        rows = Retest.objects.filter(resident__in=members)
        rows.update(sampled_at=t0 + dt.timedelta(hours=last_sampled[barcode]))
        rows.exclude(result="").update(
            resulted_at=t0 + dt.timedelta(hours=last_sampled[barcode] + 4)
        )
    figures = response.round_response(
        testing.admin, testing.round, queries.positive_tubes(testing.admin, testing.round)
    )
    assert (figures.people, figures.sampled, figures.resulted) == (6, 6, 5)
    assert (figures.pools_sampled, figures.pools_resulted) == (3, 2)
    assert figures.median_to_sampled == dt.timedelta(hours=3)
    assert figures.max_to_sampled == dt.timedelta(hours=6)
    assert figures.median_to_resulted == dt.timedelta(hours=8)  # of 6 h and 10 h
    assert figures.max_to_resulted == dt.timedelta(hours=10)


def test_a_police_liaison_post_belongs_on_a_community(testing):
    from bastion.core.errors import DomainError

    officer = person(testing.tree.units[0], "民警丙", "13600000010")
    with pytest.raises(DomainError, match="community"):
        people.post_assign(person=officer, role="police_liaison", node=testing.tree.grids[0])
