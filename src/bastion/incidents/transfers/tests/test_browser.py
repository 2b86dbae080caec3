"""The transfer pages in Debian's chromium on a 390 px phone, in Chinese: a resident's
transfer planned from their page's link, then marked departed and arrived with the two big
buttons; nothing wider than the phone, every button at least 44 px tall."""

import os
from pathlib import Path

import pytest

from bastion.core.testing import PASSWORD, browser_login, fits_a_phone
from bastion.incidents.transfers.models import Transfer

SHOTS = Path(os.environ.get("BASTION_SHOTS", "/tmp/bastion-shots"))
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_plan_then_depart_then_arrive_on_a_phone(tree, resident, hotel, phone_page):
    from playwright.sync_api import expect

    page = phone_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser_login(page, "grid", PASSWORD)
    page.goto(f"/geo/resident/{resident.pk}/")
    page.get_by_role("link", name="转运", exact=True).click()
    page.get_by_label("隔离场所", exact=True).check()
    page.locator("select[name=to_place]").select_option(str(hotel.pk))
    page.locator("select[name=reason]").select_option("close_contact")
    page.locator("input[name=plate]").fill("京A12345")
    page.locator("input[name=escort]").fill("社区医生 王丽")
    page.screenshot(path=str(SHOTS / "transfer-plan-390.png"), full_page=True)
    fits_a_phone(page)
    page.get_by_role("button", name="确定转运").click()
    expect(page.locator(".tr-card")).to_have_count(1)
    expect(page.locator(".tr-card")).to_contain_text("如家隔离酒店")
    fits_a_phone(page)
    page.get_by_role("button", name="已出发").click()
    expect(page.locator(".tr-card .tr-state")).to_have_text("途中")
    page.screenshot(path=str(SHOTS / "transfer-on-the-way-390.png"), full_page=True)
    fits_a_phone(page)
    page.get_by_role("button", name="已到达").click()
    expect(page.locator(".tr-card .tr-state")).to_have_text("已到达")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/transfers/?view=all")
    page.screenshot(path=str(SHOTS / "transfers-1280.png"), full_page=True)
    t = Transfer.objects.get()
    assert (t.state, t.to_place_id, t.plate) == ("arrived", hotel.pk, "京A12345")
