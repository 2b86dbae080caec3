"""The public site finder: the queue estimate, the order of the sites, hours and openings,
the cache, and the public page and JSON (no login, no cookie, no personal data)."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bastion.core.errors import DomainError
from bastion.geo.models import Resident
from bastion.people.models import Person
from bastion.testing.conftest import scan
from bastion.testing.finder import queries, services
from bastion.testing.finder.queries import LONG, MEDIUM, SHORT, Place
from bastion.testing.rounds import services as round_services
from bastion.testing.rounds.models import Shift, Site


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


# ------------------------------------------------------------------------ pure: the estimate


def test_bands_have_their_limits():
    assert queries.band_of(0) == queries.band_of(24.9) == SHORT
    assert queries.band_of(25) == queries.band_of(49.9) == MEDIUM
    assert queries.band_of(50) == queries.band_of(500) == LONG


def test_erlang_c_is_the_utilisation_for_one_server_and_less_with_more():
    assert queries.erlang_c(1, 0.6) == pytest.approx(0.6)
    assert queries.erlang_c(2, 1.2) < queries.erlang_c(1, 0.6)
    assert queries.erlang_c(3, 0) == 0


def test_a_crews_count_is_divided_by_the_rate_the_site_serves_at():
    # 30 served in 15 minutes: 2 a minute. 40 waiting: 20 minutes; 70: 35; 120: 60.
    est = queries.queue_estimate(open_stations=2, scans=30, window_minutes=15, reported=40)
    assert (est.minutes, est.band, est.basis, est.waiting) == (20, SHORT, "reported", 40)
    est = queries.queue_estimate(open_stations=2, scans=30, window_minutes=15, reported=70)
    assert (est.minutes, est.band) == (35, MEDIUM)
    est = queries.queue_estimate(open_stations=2, scans=30, window_minutes=15, reported=120)
    assert (est.minutes, est.band) == (60, LONG)
    # Too few scans to measure a rate (a station just opened): the nominal rate.
    est = queries.queue_estimate(open_stations=1, scans=2, window_minutes=15, reported=60)
    assert est.minutes == pytest.approx(60 / queries.SERVICE_PER_MINUTE)


def test_scans_alone_never_claim_a_long_queue_but_flag_busy_stations():
    idle = queries.queue_estimate(open_stations=2, scans=0, window_minutes=15)
    assert (idle.minutes, idle.band, idle.saturated) == (0, SHORT, False)
    calm = queries.queue_estimate(open_stations=2, scans=15, window_minutes=15)
    assert calm.band == SHORT and not calm.saturated and 0 < calm.minutes < 1
    flat_out = queries.queue_estimate(open_stations=2, scans=45, window_minutes=15)
    assert flat_out.band == SHORT and flat_out.saturated and flat_out.basis == "scans"
    assert queries.queue_estimate(open_stations=0, scans=10, window_minutes=15) is None


# ------------------------------------------------------------------------ pure: hours, order


def _at(hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2025, 3, 10, hour, minute))


def test_hours_today_tomorrow_all_day_and_past_midnight():
    six, eight_pm = dt.time(6, 30), dt.time(20)
    assert queries.hours_state(six, eight_pm, _at(5)) == (False, _at(6, 30))
    assert queries.hours_state(six, eight_pm, _at(12)) == (True, _at(6, 30) + dt.timedelta(1))
    assert queries.hours_state(six, eight_pm, _at(20)) == (False, _at(6, 30) + dt.timedelta(1))
    assert queries.hours_state(dt.time(0), dt.time(0), _at(3))[0]
    night = (dt.time(22), dt.time(6))
    assert queries.hours_state(*night, _at(23))[0] and queries.hours_state(*night, _at(2))[0]
    assert queries.hours_state(*night, _at(12)) == (False, _at(22))


def _place(pk, *, community=1, street=10, at=None, name=None):
    lat, lon = at or (None, None)
    return Place(pk, name or f"点{pk}", community, street, lat, lon)


def test_sites_serving_the_community_come_first_then_the_nearest():
    home = (42.677, 125.533)
    east = lambda km: (home[0], home[1] + km / 82.0)  # noqa: E731 - about 82 km a degree here
    sites = [
        _place(1, community=2, at=east(0.4)),  # near, serves another community
        _place(2, at=east(1.0)),  # serves ours
        _place(3, at=home),  # serves ours
        _place(7, at=east(0.2)),  # serves ours; the three's mean is 0.4 km east
        _place(4, community=2, at=east(1.5)),
        _place(5, community=3, at=east(9.0)),  # beyond NEAR_KM
        _place(6, community=2),  # no coordinates: after those with a distance
    ]
    ordered = queries.order_sites(sites, {2, 3, 7}, community_id=1, street_id=10)
    assert [p.id for p, _km in ordered] == [7, 3, 2, 1, 4, 6]
    distances = dict((p.id, km) for p, km in ordered)
    assert distances[7] == pytest.approx(0.2, abs=0.02)
    assert distances[1] == pytest.approx(0.0, abs=0.02)
    assert distances[6] is None
    fewer = queries.order_sites(sites, {2, 3, 7}, community_id=1, street_id=10, others=1)
    assert [p.id for p, _km in fewer] == [7, 3, 2, 1]  # every serving site, one more


def test_without_coordinates_the_tree_says_what_is_near():
    sites = [
        _place(1, community=9, street=99, name="甲"),  # other street
        _place(2, community=5, street=10, name="乙"),  # same street
        _place(3, community=1, name="丙"),  # in the community, serving others
        _place(4, community=1, name="丁"),  # serving it
    ]
    ordered = queries.order_sites(sites, {4}, community_id=1, street_id=10)
    assert [p.id for p, km in ordered] == [4, 3, 2, 1]
    assert all(km is None for _p, km in ordered)


# ------------------------------------------------------------------- on the database


@pytest.fixture
def arranged(testing):
    """The testing set-up with its shifts opened two hours ago and its sites open all day,
    so that scans may carry times from the last half hour whatever the hour of the test."""
    now = timezone.now()
    Shift.objects.filter(round=testing.round).update(opened_at=now - dt.timedelta(hours=2))
    Site.objects.update(opens_at=dt.time(0), closes_at=dt.time(0))
    return testing, now


def _scans(testing, now, minutes_ago: list[int], tube_prefix: str, skip: int = 0) -> None:
    """Scans at site 0 (alternating its two stations) at the given minutes before `now`."""
    people = testing.residents_of(testing.tree.grids[0])[skip:]
    for k, ago in enumerate(minutes_ago):
        station = testing.stations[k % 2]
        outcome = scan(
            station,
            f"{tube_prefix}-{k % 2}-{k // 10}",
            people[k].id_number,
            at=now - dt.timedelta(minutes=ago, seconds=10),
        )
        assert outcome.status == "accepted", outcome


def _site(data: dict, site: Site) -> dict:
    return next(s for s in data["sites"] if s["id"] == site.pk)


def _report(testing, counts: list[int], at) -> None:
    for station, n in zip(testing.stations[:2], counts, strict=True):
        services.station_queue_report(actor=testing.admin, station=station, length=n, at=at)


def test_each_band_from_hand_built_scan_times(arranged):
    testing, now = arranged
    community = testing.tree.communities[0]
    # 10 scans in the last 15 minutes (2 every 3 minutes), 10 more before: not counted.
    _scans(testing, now, [1, 2, 4, 5, 7, 8, 10, 11, 13, 14], "TF-A")
    _scans(testing, now, [16, 18, 20, 22, 24, 26, 27, 28, 29, 30], "TF-B", skip=10)

    short = _site(queries.finder_data(community.pk, now), testing.sites[0])
    assert short["open_now"] and short["open_stations"] == 2
    assert short["queue"]["band"] == SHORT and short["queue"]["basis"] == "scans"

    cache.clear()
    _report(testing, [12, 12], now - dt.timedelta(minutes=2))  # 24 at 10/15 a minute: 36 min
    medium = _site(queries.finder_data(community.pk, now), testing.sites[0])["queue"]
    assert (medium["band"], medium["minutes"], medium["waiting"]) == (MEDIUM, 36, 24)

    cache.clear()
    _report(testing, [20, 20], now - dt.timedelta(minutes=1))  # 40: an hour
    long = _site(queries.finder_data(community.pk, now), testing.sites[0])["queue"]
    assert (long["band"], long["minutes"]) == (LONG, 60)

    # A count older than the window is ignored: back to what the scans say.
    cache.clear()
    later = now + dt.timedelta(minutes=16)
    assert _site(queries.finder_data(community.pk, later), testing.sites[0])["queue"]["basis"] == (
        "scans"
    )


def test_sites_serving_the_community_first_then_others(arranged):
    testing, now = arranged
    tree = testing.tree
    far = round_services.site_create(
        actor=testing.admin,
        node=tree.grids[2],
        name="采样点3",
        address="广场3号",
        opens_at=dt.time(0),
        closes_at=dt.time(0),
        buildings=[b for b in tree.buildings if b.grid_id == tree.grids[2].pk],
    )
    first = queries.finder_data(tree.communities[0].pk, now)["sites"]
    assert [(s["id"], s["serves_community"]) for s in first] == [
        (testing.sites[0].pk, True),
        (testing.sites[1].pk, True),
        (far.pk, False),
    ]
    other = queries.finder_data(tree.communities[1].pk, now)["sites"]
    assert [(s["id"], s["serves_community"]) for s in other][0] == (far.pk, True)

    # With coordinates: the community's point is the mean of its serving sites; another
    # site is shown with its distance when within NEAR_KM, and left out beyond.
    Site.objects.filter(pk=testing.sites[0].pk).update(lat=42.70, lon=125.50)
    Site.objects.filter(pk=testing.sites[1].pk).update(lat=42.68, lon=125.52)
    Site.objects.filter(pk=far.pk).update(lat=42.69, lon=125.53)
    cache.clear()
    near = queries.finder_data(tree.communities[0].pk, now)["sites"]
    assert [s["id"] for s in near] == [testing.sites[0].pk, testing.sites[1].pk, far.pk]
    assert near[2]["distance_km"] == pytest.approx(1.6, abs=0.1)
    Site.objects.filter(pk=far.pk).update(lat=43.0, lon=126.0)
    cache.clear()
    ordered = queries.finder_data(tree.communities[0].pk, now)["sites"]
    assert [s["id"] for s in ordered] == [testing.sites[0].pk, testing.sites[1].pk]


def test_closed_sites_show_when_they_open(arranged):
    testing, now = arranged
    local = timezone.localtime(now).replace(second=0, microsecond=0)
    opens = local + dt.timedelta(hours=2)
    Site.objects.filter(pk=testing.sites[1].pk).update(
        opens_at=opens.time(), closes_at=(opens + dt.timedelta(hours=1)).time()
    )
    for station in testing.stations[:2]:  # site 0: in its hours, no station open
        round_services.station_close(actor=testing.admin, station=station)
    data = queries.finder_data(testing.tree.communities[0].pk, now)
    idle, closed = _site(data, testing.sites[0]), _site(data, testing.sites[1])
    assert (idle["open_now"], idle["within_hours"], idle["queue"]) == (False, True, None)
    assert (closed["open_now"], closed["within_hours"]) == (False, False)
    assert closed["next_open_at"] == opens and closed["open_stations"] == 0

    page = Client().get(reverse("finder_community", args=[testing.tree.communities[0].pk]))
    text = page.content.decode()
    assert "暂停采样" in text  # Not sampling now
    day = "明天" if opens.date() > local.date() else "今天"
    assert f"{day} {opens:%H:%M} 开放" in text


def test_the_cache_is_per_community_and_expires(arranged, django_assert_num_queries):
    testing, now = arranged
    first, second = testing.tree.communities[:2]
    before = _site(queries.finder_data(first.pk, now), testing.sites[0])
    assert before["queue"]["basis"] == "scans"
    _report(testing, [30, 30], now)

    with django_assert_num_queries(0):
        cached = queries.finder_data(first.pk, now + dt.timedelta(seconds=10))
    assert _site(cached, testing.sites[0]) == before
    assert queries.finder_data(second.pk, now + dt.timedelta(seconds=10))["community"]["id"] == (
        second.pk
    )
    expired = queries.finder_data(first.pk, now + dt.timedelta(seconds=queries.CACHE_SECONDS))
    assert _site(expired, testing.sites[0])["queue"]["basis"] == "reported"
    assert queries.finder_data(999_999, now) is None


def test_a_miss_reads_the_community_its_serving_sites_the_candidates_and_stations_once(
    arranged, django_assert_num_queries
):
    testing, now = arranged
    first, second = testing.tree.communities[:2]
    queries.finder_data(second.pk, now)  # the city's scans, cached for every community
    with django_assert_num_queries(4):
        data = queries.finder_data(first.pk, now)
    shown = _site(data, testing.sites[0])  # what is shown comes from the same read
    assert (shown["address"], shown["community"], shown["opens_at"]) == (
        "广场1号",
        first.name,
        "00:00",
    )


# ------------------------------------------------------------------------- the public page


def _personal() -> list[str]:
    values = [v for r in Resident.objects.all() for v in (r.name, r.id_number, r.phone)]
    values += [v for p in Person.objects.all() for v in (p.name, p.phone)]
    return [v for v in values if v]


def test_the_page_is_public_cacheable_cookieless_and_holds_no_personal_data(arranged):
    testing, now = arranged
    _scans(testing, now, [1, 2, 3, 4, 5, 6], "TF-P")
    _report(testing, [3, 4], now)
    community = testing.tree.communities[0]
    client = Client()
    url = reverse("finder_community", args=[community.pk])
    pages = [client.get(url), client.get(url, {"lang": "en"})]
    answer = client.get(f"/api/v1/testing/finder/{community.pk}")
    for response in [*pages, answer]:
        assert response.status_code == 200
        assert not response.cookies and "Set-Cookie" not in response.headers
        assert "public" in response["Cache-Control"]
        assert f"max-age={queries.CACHE_SECONDS}" in response["Cache-Control"]
        assert "Cookie" not in response.get("Vary", "")
        text = response.content.decode()
        assert "csrfmiddlewaretoken" not in text
        leaked = [v for v in _personal() if v in text]
        assert not leaked, leaked
    zh, en = (p.content.decode() for p in pages)
    assert '<html lang="zh-hans">' in zh and "采样点1" in zh and "广场1号" in zh
    assert '<html lang="en">' in en and "Open now" in en and "Find a sampling site" in en
    assert pages[0]["Content-Language"] == "zh-hans" and pages[1]["Content-Language"] == "en"
    assert "<script" not in zh and len(zh.encode()) < 16_000
    sites = answer.json()["sites"]
    assert sites[0]["name"] == "采样点1" and sites[0]["queue"]["waiting"] == 7

    again = client.get(url, headers={"if-none-match": pages[0]["ETag"]})
    assert again.status_code == 304 and not again.content


def test_anonymous_residents_find_while_staff_pages_still_need_a_login(testing):
    community = testing.tree.communities[0]
    client = Client()
    search = client.get(reverse("finder"), {"q": "社区1"})
    assert search.status_code == 200
    assert reverse("finder_community", args=[community.pk]) in search.content.decode()
    assert not search.cookies
    picked = client.get(reverse("finder"), {"community": community.pk, "lang": "en"})
    assert picked.status_code == 302
    assert picked["Location"] == reverse("finder_community", args=[community.pk]) + "?lang=en"
    assert client.get(reverse("finder_community", args=[testing.tree.grids[0].pk])).status_code == (
        404  # a grid is not a community
    )

    assert client.get(reverse("testing:sites")).status_code == 302  # to the login
    assert client.get(reverse("testing:station", args=[testing.stations[0].pk])).status_code == 302
    assert client.get("/api/v1/testing/sites").status_code == 401
    assert client.post(f"/api/v1/testing/stations/{testing.stations[0].pk}/queue").status_code in (
        401,
        403,
    )
    assert client.post(reverse("finder")).status_code == 405


# ------------------------------------------------------------------- the crews' queue count


def test_a_crew_reports_its_queue_within_its_scope(testing):
    tree, station = testing.tree, testing.stations[0]  # site 0 is in grid 0
    with pytest.raises(DomainError) as refused:
        services.station_queue_report(actor=testing.admin, station=station, length=-1)
    assert refused.value.problems[0].field == "queue_length"
    round_services.station_close(actor=testing.admin, station=testing.stations[1])
    with pytest.raises(DomainError):
        services.station_queue_report(actor=testing.admin, station=testing.stations[1], length=3)

    chief = Client()
    chief.force_login(tree.users["grid"])
    response = chief.post(reverse("testing:station_queue", args=[station.pk]), {"queue_length": 17})
    assert response.status_code == 302
    station.refresh_from_db()
    assert station.queue_length == 17 and station.queue_reported_at is not None

    api = f"/api/v1/testing/stations/{station.pk}/queue"
    ok = chief.post(api, {"queue_length": 9}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["queue_length"] == 9
    bad = chief.post(api, {"queue_length": 99999}, content_type="application/json")
    assert bad.status_code == 422

    other = Client()
    other.force_login(tree.users["other_grid"])
    assert other.post(api, {"queue_length": 1}, content_type="application/json").status_code == 404
    page = reverse("testing:station_queue", args=[station.pk])
    assert other.post(page, {"queue_length": 1}).status_code == 404
    volunteer = Client()
    volunteer.force_login(tree.users["volunteer"])
    assert (
        volunteer.post(api, {"queue_length": 1}, content_type="application/json").status_code == 403
    )
    station.refresh_from_db()
    assert station.queue_length == 9


# ---------------------------------------------------------------------------------- the demo


def test_the_demo_shows_every_band_and_closed_sites(testing_demo):
    now, counts = testing_demo.now, testing_demo.counts
    assert counts["finder_sites_with_coordinates"] == Site.objects.count() == 32
    assert not Site.objects.filter(lat__isnull=True).exists()
    first = Site.objects.order_by("pk").first()
    data = queries.finder_data(first.community_id, now + dt.timedelta(seconds=30))
    open_bands = {s["name"]: s["queue"]["band"] for s in data["sites"] if s["open_now"]}
    assert {SHORT, MEDIUM, LONG} <= set(open_bands.values()), open_bands
    assert all(s["distance_km"] is not None for s in data["sites"])
    assert data["sites"][0]["serves_community"] and data["sites"][0]["all_day"]


def test_the_login_page_and_a_households_page_link_to_the_finder(tree):
    from bastion.requests import services as requests_services

    assert f'href="{reverse("finder")}"' in Client().get(reverse("login")).content.decode()
    home = Resident.objects.filter(unit=tree.units[0]).first().household
    link = requests_services.link_issue(actor=tree.users["street"], household=home)
    token = requests_services.link_token(link)
    page = Client().get(reverse("requests:home", args=[token])).content.decode()
    assert reverse("finder_community", args=[home.community_id]) in page
