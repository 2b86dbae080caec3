"""The station page in Debian's chromium on a 390 px phone, Chinese first: a word scanned by
mistake is refused instead of opening a tube; leaving a half-full tube asks first; the tube
being filled is kept on the server, so a second device continues it; and a pooled-tube member
on the retest list flows through the page into a single tube."""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from bastion.core.testing import PASSWORD, browser_login
from bastion.testing.conftest import scan as service_scan
from bastion.testing.results import services as result_services
from bastion.testing.scans.models import Scan, Tube, TubeKind

SHOTS = Path(os.environ.get("BASTION_SHOTS", "/tmp/bastion-shots"))

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def scanner(page):
    field = page.locator("#st-scan")

    def scan(text: str) -> None:
        field.type(text)
        field.press("Enter")

    return scan


def test_a_typo_is_refused_a_half_full_tube_asks_and_the_tube_is_kept(testing, phone_page):
    from playwright.sync_api import expect

    station = testing.stations[0]
    people = testing.residents_of(testing.tree.grids[0])[:2]
    page = phone_page
    browser_login(page, "grid", PASSWORD)
    url = reverse("testing:station", args=[station.pk])
    page.goto(url)
    scan = scanner(page)
    banner, current = page.locator("#st-banner"), page.locator("#st-tube")

    scan("NOSUCHCODE")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("NOSUCHCODE")
    expect(current).to_have_text("—")  # no tube opened
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "station-not-a-tube-390.png"), full_page=True)

    scan("ST-0001")
    expect(current).to_have_text("ST-0001")
    for p in people:
        scan(p.id_number)
    expect(page.locator("#st-sync")).to_have_attribute("data-count", "0")
    expect(page.locator("#st-filled")).to_have_text("2")

    asked = []

    def answer(accept: bool):
        def on_dialog(dialog):
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return on_dialog

    page.once("dialog", answer(False))
    scan("ST-0002")
    expect(current).to_have_text("ST-0001")  # the crew said no: still the half-full tube
    assert asked and "ST-0001" in asked[0] and "2" in asked[0]
    page.once("dialog", answer(True))
    scan("ST-0002")
    expect(current).to_have_text("ST-0002")
    assert len(asked) == 2
    expect(page.locator("#st-filled")).to_have_text("0")
    # Back to the half-full tube (the empty one needs no question).
    scan("ST-0001")
    expect(current).to_have_text("ST-0001")
    expect(page.locator("#st-filled")).to_have_text("2")
    page.wait_for_function(
        "() => fetch(document.getElementById('st').dataset.api)"
        ".then(r => r.json()).then(d => d.current && d.current.barcode === 'ST-0001')"
    )

    # A second device (another browser, nothing on it) continues the same tube, not the
    # newest open one.
    other = page.context.browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        base_url=page.url.split("/testing/")[0],
    )
    try:
        second = other.new_page()
        browser_login(second, "grid", PASSWORD)
        second.goto(url)
        expect(second.locator("#st-tube")).to_have_text("ST-0001")
        expect(second.locator("#st-filled")).to_have_text("2")
        assert second.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        other.close()
    assert not Tube.objects.filter(barcode="NOSUCHCODE").exists()


def test_a_retest_flows_through_the_page_into_a_single_tube(testing, phone_page):
    from playwright.sync_api import expect

    station = testing.stations[0]
    pool = testing.residents_of(testing.tree.buildings[0])[:5]
    for r in pool:
        assert service_scan(station, "P-0001", r.id_number).ok
    result_services.results_import(
        actor=testing.admin,
        round=testing.round,
        rows=[result_services.ResultRow(2, "P-0001", "阳性")],
    )
    walk_up = [r for r in testing.residents_of(testing.tree.grids[0]) if r not in pool][0]

    page = phone_page
    browser_login(page, "grid", PASSWORD)
    page.goto(reverse("testing:station", args=[station.pk]))
    scan = scanner(page)
    current, sync = page.locator("#st-tube"), page.locator("#st-sync")

    scan("ST-0101")
    expect(current).to_have_text("ST-0101")
    scan(walk_up.id_number)
    expect(page.locator("#st-filled")).to_have_text("1")
    scan(pool[0].id_number)  # pooled before, now on the retest list
    offer = page.locator("#st-retest")
    expect(offer).to_be_visible()
    expect(offer).to_contain_text(pool[0].name)
    page.screenshot(path=str(SHOTS / "station-retest-offer-390.png"), full_page=True)

    page.click("#st-retest-single")
    expect(page.locator("#st-single")).to_be_checked()
    scan("SG-0001")  # a new single tube: the retest goes in, and the crew is back on ST-0101
    expect(page.locator("#st-banner")).to_contain_text("SG-0001")
    expect(current).to_have_text("ST-0101")
    expect(page.locator("#st-filled")).to_have_text("1")
    expect(sync).to_have_attribute("data-count", "0")
    expect(offer).to_be_hidden()
    expect(page.locator("#st-single")).not_to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "station-retested-390.png"), full_page=True)

    retest = Scan.objects.get(resident=pool[0], retest=True)
    assert retest.tube.barcode == "SG-0001" and retest.tube.kind == TubeKind.SINGLE
    assert retest.tube.status == "closed" and retest.tube.filled == 1

    # The switch alone: the next tube opened is single.
    page.check("#st-single")
    scan("SG-0002")
    expect(current).to_have_text("SG-0002")
    expect(page.locator("#st-capacity")).to_have_text("1")
    scan(pool[1].id_number)
    expect(sync).to_have_attribute("data-count", "0")
    assert Scan.objects.get(resident=pool[1], retest=True).tube.barcode == "SG-0002"
