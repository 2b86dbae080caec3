"""The station page in Debian's chromium on a 390 px phone: opened offline once visited (its
service worker keeps the page and its scripts), its queue surviving a closed tab, and an item
the server cannot take set aside with the reason while the rest of the queue syncs."""

import json
import os
import uuid
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from bastion.core.testing import PASSWORD, browser_login
from bastion.testing.scans.models import Scan

SHOTS = Path(os.environ.get("BASTION_SHOTS", "/tmp/bastion-shots"))
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _scan(page, text: str) -> None:
    page.locator("#st-scan").type(text)
    page.locator("#st-scan").press("Enter")


def test_the_station_page_opens_offline_once_visited_and_keeps_its_queue(
    testing, cabled_phone_page, cable
):
    from playwright.sync_api import expect

    station = testing.stations[0]
    person = testing.residents_of(testing.tree.grids[0])[0]
    page, context = cabled_phone_page, cabled_phone_page.context
    url = reverse("testing:station", args=[station.pk])
    browser_login(page, "grid", PASSWORD)
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "1")

    cable.cut()
    reloaded = page.reload()
    assert reloaded is not None and reloaded.from_service_worker
    expect(page.locator("#st-scan")).to_be_visible()
    _scan(page, "OF-0001")
    _scan(page, person.id_number)
    expect(page.locator("#st-sync")).to_have_attribute("data-count", "1")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "station-opened-offline-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # The tab is closed and opened again, still offline: the queue is still there.
    page.close()
    again = context.new_page()
    opened = again.goto(url)
    assert opened is not None and opened.from_service_worker
    expect(again.locator("#st-sync")).to_have_attribute("data-count", "1")
    assert not Scan.objects.exists()

    cable.mend()
    again.click("#st-sync-now")
    expect(again.locator("#st-sync")).to_have_attribute("data-count", "0")
    assert list(Scan.objects.values_list("resident_id", flat=True)) == [person.pk]


def test_an_item_the_server_cannot_take_is_set_aside_and_the_rest_sync(testing, phone_page):
    """A queued scan whose time the API cannot even parse (the whole batch answers 422) no
    longer holds the queue: it is set aside, listed with the reason, the others go in."""
    from playwright.sync_api import expect

    station = testing.stations[0]
    people = testing.residents_of(testing.tree.grids[0])[:3]
    page = phone_page
    url = reverse("testing:station", args=[station.pk])
    browser_login(page, "grid", PASSWORD)
    page.goto(url)
    now = timezone.now().isoformat()
    queue = [
        {"client_id": str(uuid.uuid4()), "tube": "PS-0001", "code": p.id_number, "at": at}
        for p, at in zip(people, [now, "not-a-time", now], strict=True)
    ]
    page.evaluate(
        "([key, queue]) => localStorage.setItem(key, queue)",
        [f"bastion.station.{station.pk}.queue", json.dumps(queue)],
    )
    page.reload()

    expect(page.locator("#st-sync")).to_have_attribute("data-count", "0")
    refusals = page.locator("#st-refusals")
    expect(refusals).to_contain_text("已搁置")
    expect(refusals).to_contain_text("422")
    expect(page.locator("#st-banner")).to_be_visible()
    assert sorted(Scan.objects.values_list("resident_id", flat=True)) == sorted(
        [people[0].pk, people[2].pk]
    )
    kept = page.evaluate(
        f"JSON.parse(localStorage.getItem('bastion.station.{station.pk}.refusals'))"
    )
    assert kept[0]["scan"]["at"] == "not-a-time"  # kept on the device, not lost
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "station-set-aside-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / "station-set-aside-1280.png"), full_page=True)
