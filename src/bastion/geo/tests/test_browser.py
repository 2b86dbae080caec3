"""The geo pages in Debian's chromium on a 390 px phone: the building view, and the htmx parts
(search as you type, reveal a number)."""

import pytest
from playwright.sync_api import expect

from bastion.core.testing import PASSWORD, browser_login
from bastion.geo.models import Resident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_phone_opens_a_building_and_sees_its_units(tree, phone_page, tmp_path):
    page = phone_page
    browser_login(page, "grid", PASSWORD)
    page.get_by_role("link", name="网格1-1").first.click()
    page.get_by_role("link", name="111号楼").first.click()
    expect(page.locator("h1")).to_have_text("111号楼")

    grid = page.locator("table.bgrid")
    expect(grid.locator("thead th.unit")).to_have_text(["1单元", "2单元"])
    expect(grid.locator("tbody th.floor")).to_have_text(["2", "1"])
    expect(grid.locator("a.room")).to_have_count(8)
    expect(grid.locator("a.room").first).to_contain_text("201")
    # Only the grid scrolls sideways, never the page.
    assert page_width(page) <= 390

    shot = tmp_path / "building-phone.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 10_000

    grid.locator("a.room").first.click()
    expect(page.locator("h1")).to_have_text("111号楼 1单元 201")
    expect(page.locator("table.people tbody tr")).to_have_count(2)


def test_phone_searches_as_you_type_and_reveals_a_logged_number(tree, phone_page, reveal_log):
    resident = Resident.objects.filter(grid=tree.grids[0]).order_by("id").first()
    page = phone_page
    browser_login(page, "grid", PASSWORD)
    page.locator("#resident-q").fill(resident.phone[-8:])
    result = page.locator(".results a")
    expect(result).to_have_count(1)
    expect(result).to_contain_text(resident.name)
    expect(result).not_to_contain_text(resident.phone)

    result.click()
    expect(page.locator("h1")).to_have_text(resident.name)
    number = page.locator(".number-box").nth(1)
    expect(number).not_to_contain_text(resident.phone)
    number.get_by_role("button").click()
    expect(number.locator(".revealed")).to_have_text(resident.phone)
    shown = reveal_log.objects.filter(subject_id=resident.pk, field="phone")
    assert shown.filter(via="web").count() == 1
    # Eight digits are more than the mask shows: the search itself was a logged reveal.
    assert shown.filter(via="search").exists()
    assert page_width(page) <= 390
