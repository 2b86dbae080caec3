"""The pages: each renders for a login that may see it, and is a 404 for a login whose area
does not hold the row (one parametrised scope test over every URL), and anonymous visitors
are sent to log in."""

import pytest
from django.test import Client
from django.urls import reverse

from bastion.core.testing import PASSWORD
from bastion.testing.conftest import scan
from bastion.testing.results import services as result_services
from bastion.testing.scans.models import Tube


@pytest.fixture
def pages(testing):
    """A positive tube in grid 1, and the URLs of every page about grid 1's rows."""
    tree = testing.tree
    for r in testing.residents_of(tree.buildings[0])[:5]:
        assert scan(testing.stations[0], "V-0001", r.id_number).ok
    result_services.results_import(
        actor=testing.admin,
        round=testing.round,
        rows=[result_services.ResultRow(None, "V-0001", "positive")],
    )
    tube = Tube.objects.get(barcode="V-0001")
    rid, grid = testing.round.pk, tree.grids[0].pk
    return {
        "round": reverse("testing:round", args=[rid]) + f"?node={grid}",
        "missing": reverse("testing:missing", args=[rid]) + f"?node={grid}",
        "home_visits": reverse("testing:home_visits", args=[rid]) + f"?node={grid}",
        "retests": reverse("testing:retests", args=[rid]) + f"?node={grid}",
        "tube": reverse("testing:tube", args=[tube.pk]),
        "tube_find": reverse("testing:tube_find") + "?barcode=v-0001",
        "site": reverse("testing:site", args=[testing.sites[0].pk]),
        "codes": reverse("testing:codes", args=[tree.units[0].pk]),
    }


def login(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    assert client.login(username=user.username, password=PASSWORD)
    return client


ROUND_PAGES = ("index", "throughput", "throughput_data", "sites")


@pytest.mark.parametrize(
    "name", ["round", "missing", "home_visits", "retests", "tube", "tube_find", "site", "codes"]
)
def test_each_page_of_a_grid_is_seen_there_and_404_elsewhere(testing, pages, name):
    own = login(testing.tree.users["grid"]).get(pages[name], follow=True)
    assert own.status_code == 200
    other = login(testing.tree.users["other_grid"]).get(pages[name])
    assert other.status_code == 404
    anonymous = Client().get(pages[name])
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


@pytest.mark.parametrize("name", ROUND_PAGES)
def test_the_round_pages_render(testing, pages, name):
    args = [testing.round.pk] if name.startswith("throughput") else []
    response = login(testing.tree.users["street"]).get(reverse(f"testing:{name}", args=args))
    assert response.status_code == 200


def test_the_round_page_shows_coverage_per_child_and_the_positive_tube(testing, pages):
    page = (
        login(testing.tree.users["street"])
        .get(reverse("testing:round", args=[testing.round.pk]))
        .content.decode()
    )
    assert testing.tree.communities[0].name in page and testing.tree.communities[1].name in page
    assert "V-0001" in page


def test_the_traceback_page_lists_people_and_the_missing_page_the_rest(testing, pages):
    client = login(testing.tree.users["street"])
    traced = client.get(pages["tube"]).content.decode()
    for r in testing.residents_of(testing.tree.buildings[0])[:5]:
        assert r.name in traced and r.id_number not in traced  # masked
    missing = client.get(pages["missing"]).content.decode()
    shown = testing.residents_of(testing.tree.buildings[0])
    assert f'ts-person">{shown[5].name} <' in missing
    assert f'ts-person">{shown[0].name} <' not in missing


def test_results_upload_page_imports_or_lists_bad_rows(testing, pages):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("testing:results_import", args=[testing.round.pk])
    client = login(testing.tree.users["street"])
    bad = SimpleUploadedFile("lab.csv", b"tube,result\nNOPE-1,negative\n")
    page = client.post(url, {"file": bad})
    assert page.status_code == 200 and "NOPE-1" in page.content.decode()
    assert login(testing.tree.users["other_grid"]).get(url).status_code in (403, 404)


def test_a_station_is_closed_and_opened_from_the_site_plan(testing):
    from bastion.testing.rounds.models import Shift

    station = testing.stations[0]
    client = login(testing.tree.users["grid"])
    url = reverse("testing:station_toggle", args=[station.pk])
    assert client.post(url).status_code == 302
    assert not Shift.objects.filter(station=station, closed_at__isnull=True).exists()
    client.post(url, {"round": testing.round.pk})
    assert Shift.objects.filter(station=station, closed_at__isnull=True).exists()
    other = login(testing.tree.users["other_grid"]).post(url)
    assert other.status_code == 404


def test_on_the_station_page_the_fill_comes_right_after_the_scan_field(testing):
    """On a phone the crew sees the tube's fill without scrolling past the manual entry."""
    page = login(testing.tree.users["grid"]).get(
        reverse("testing:station", args=[testing.stations[0].pk])
    )
    html = page.content.decode()
    order = [html.index(mark) for mark in ('id="st-scan"', 'class="st-gauge"', "st-manual-box")]
    assert order == sorted(order)
