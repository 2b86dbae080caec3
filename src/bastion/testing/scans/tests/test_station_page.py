"""The station page: it renders for a login whose area holds the station (404 elsewhere), and
in Debian's chromium on a 390 px phone it scans a tube and residents, keeps scanning while the
API is cut off (the queue grows), and syncs every scan exactly once when the link returns."""

import os
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from bastion.core.testing import PASSWORD, browser_login
from bastion.testing.scans.models import Scan

SHOTS = Path(os.environ.get("BASTION_SHOTS", "/tmp/bastion-shots"))


def login(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_station_page_renders_in_scope_and_404s_elsewhere(testing):
    station = testing.stations[0]  # a site in grid 1
    url = reverse("testing:station", args=[station.pk])
    page = login(testing.tree.users["grid"]).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="st-scan"' in html and 'id="st-strings"' in html and "station.js" in html
    assert "waiting to sync" in html  # the script's texts come translated from the server
    assert login(testing.tree.users["other_grid"]).get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_the_site_plan_links_each_station_page(testing):
    page = login(testing.tree.users["grid"]).get(
        reverse("testing:site", args=[testing.sites[0].pk])
    )
    for station in testing.stations[:2]:
        assert reverse("testing:station", args=[station.pk]) in page.content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_scans_queue_offline_and_sync_once(testing, cabled_phone_page, cable):
    from playwright.sync_api import expect

    station = testing.stations[0]
    people = testing.residents_of(testing.tree.grids[0])[:4]
    page = cabled_phone_page
    browser_login(page, "grid", PASSWORD)
    page.goto(reverse("testing:station", args=[station.pk]))
    scan_input = page.locator("#st-scan")
    expect(scan_input).to_be_focused()
    sync = page.locator("#st-sync")

    def scan(text: str) -> None:
        scan_input.type(text)
        scan_input.press("Enter")

    scan("ST-0001")  # a tube barcode: opens the current tube
    expect(page.locator("#st-tube")).to_have_text("ST-0001")
    scan(people[0].id_number)
    scan(people[1].id_number)
    expect(sync).to_have_attribute("data-count", "0")
    expect(page.locator("#st-filled")).to_have_text("2")
    expect(page.locator("#st-capacity")).to_have_text("5")

    cable.cut()
    scan(people[2].id_number)
    scan(people[3].id_number)
    expect(sync).to_have_attribute("data-count", "2")
    expect(page.locator("#st-filled")).to_have_text("4")  # counted here while offline
    expect(scan_input).to_be_focused()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "station-offline-390.png"), full_page=True)

    assert Scan.objects.filter(station=station).count() == 2
    cable.mend()
    page.click("#st-sync-now")
    expect(sync).to_have_attribute("data-count", "0")
    expect(page.locator("#st-banner")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "station-synced-390.png"), full_page=True)

    rows = list(Scan.objects.filter(station=station).values_list("client_id", "resident_id"))
    assert len(rows) == 4 and len({c for c, _r in rows}) == 4  # every scan, each once
    assert sorted(r for _c, r in rows) == sorted(p.pk for p in people)

    # A refusal is loud: the same person again is already sampled, in ST-0001.
    scan(people[0].id_number)
    banner = page.locator("#st-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("ST-0001")
    expect(sync).to_have_attribute("data-count", "0")
    page.screenshot(path=str(SHOTS / "station-refused-390.png"), full_page=True)
    assert Scan.objects.filter(station=station).count() == 4
