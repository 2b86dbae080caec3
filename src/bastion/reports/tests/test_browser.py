"""The dashboard in Debian's chromium on a 390 px phone: the charts draw (ECharts canvases)."""

import pytest

from bastion.core.testing import PASSWORD, browser_login
from bastion.reports import services


@pytest.mark.browser
def test_the_dashboard_draws_its_charts_on_a_phone(tree, phone_page):
    services.report_compute(day=services.local_today())
    page = phone_page
    browser_login(page, "community", PASSWORD)
    page.goto(f"/reports/{tree.communities[0].pk}/")
    page.locator("#rp-trend canvas").wait_for()
    page.locator("#rp-children canvas").wait_for()
    assert page.locator(".rp-board .rp-tile").count() == 4
    # Nothing wider than the phone: the ledger scrolls inside its own box.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    box = page.locator("#rp-trend canvas").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 200
