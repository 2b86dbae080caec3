"""In Debian's chromium on a 390 px phone: a link in a table is a thumb's target, at least
44 px tall (shared CSS; issue 14 item 17)."""

import os

import pytest

from bastion.core.testing import PASSWORD, browser_login


@pytest.mark.browser
@pytest.mark.parametrize(
    "path", ["/geo/node/{community}/", "/geo/node/{grid}/", "/geo/building/{building}/"]
)
def test_table_links_are_tall_enough_to_tap(phone_page, tree, path):
    page = phone_page
    browser_login(page, "community", PASSWORD)
    nodes = {"community": tree.communities[0], "grid": tree.grids[0], "building": tree.buildings[0]}
    page.goto(path.format(**{level: node.pk for level, node in nodes.items()}))
    links = page.locator("table a:visible")
    assert links.count() >= 2
    heights = [links.nth(i).bounding_box()["height"] for i in range(links.count())]
    assert min(heights) >= 44, heights
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    if shots := os.environ.get("BASTION_SCREENSHOTS"):
        name = path.split("{")[1].rstrip("}/")
        page.screenshot(path=os.path.join(shots, f"touch-table-{name}.png"), full_page=True)


@pytest.mark.browser
def test_show_buttons_beside_masked_numbers_are_tall_enough_to_tap(phone_page, tree):
    """The reveal ("Show") buttons are thumb targets too (issue 15): at least 44 px tall."""
    from bastion.geo.models import Resident

    resident = Resident.objects.filter(grid=tree.grids[0]).order_by("pk").first()
    page = phone_page
    browser_login(page, "grid", PASSWORD)
    page.goto(f"/geo/resident/{resident.pk}/")
    buttons = page.locator(".number-box button:visible")
    assert buttons.count() >= 2
    heights = [buttons.nth(i).bounding_box()["height"] for i in range(buttons.count())]
    assert min(heights) >= 44, heights
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    if shots := os.environ.get("BASTION_SCREENSHOTS"):
        page.screenshot(path=os.path.join(shots, "touch-reveal.png"), full_page=True)
