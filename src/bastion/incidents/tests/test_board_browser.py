"""The dashboard's buildings by control level in Debian's chromium on a 390 px phone, in
Chinese: a sealed building's tile shows sealed (red, with the word), a building of a
controlled grid controlled, the rest plain; nothing wider than the phone."""

import os
from pathlib import Path

import pytest

from bastion.core.testing import PASSWORD, browser_login, fits_a_phone
from bastion.incidents import services
from bastion.reports import services as reports

SHOTS = Path(os.environ.get("BASTION_SHOTS", "/tmp/bastion-shots"))
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_sealed_building_shows_sealed_on_a_phone(tree, phone_page):
    admin = tree.users["admin"]
    services.control_set(actor=admin, node=tree.buildings[0], level="sealed", reason="阳性病例")
    services.control_set(actor=admin, node=tree.grids[0], level="controlled", reason="同网格")
    reports.report_compute(day=reports.local_today())
    page = phone_page
    browser_login(page, "community", PASSWORD)
    page.goto(f"/reports/{tree.communities[0].pk}/#control-board")
    sealed = page.locator(f'.rp-lv-board [data-building="{tree.buildings[0].pk}"]')
    assert sealed.get_attribute("data-level") == "sealed"
    assert "封控" in sealed.inner_text()
    color = sealed.evaluate("e => getComputedStyle(e).backgroundColor")
    assert color == "rgb(198, 40, 40)"
    controlled = page.locator(f'.rp-lv-board [data-building="{tree.buildings[1].pk}"]')
    assert controlled.get_attribute("data-level") == "controlled"
    plain = page.locator(f'.rp-lv-board [data-building="{tree.buildings[2].pk}"]')
    assert plain.get_attribute("data-level") == ""
    assert page.locator('.rp-lv-legend [data-level="sealed"]').inner_text() == "1"
    fits_a_phone(page, within="#control-board ~ .rp-lv-board")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#control-board").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "control-board-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / "control-board-1280.png"), full_page=True)
