"""The grid chief's phone (Debian's chromium, 390 px): the home page says reports are due, the
due list takes a morning report (the person then owes only the afternoon's), nothing scrolls
sideways and every button is a thumb's height. Screenshots of the pages, on the phone and the
desktop, for a person to look at."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.urls import reverse

from bastion.core.testing import PASSWORD, browser_login
from bastion.geo.models import Household
from bastion.quarantine.home.models import HomeReport
from bastion.quarantine.home.tests.test_services import place

SHOTS = Path(os.environ.get("BASTION_SHOTS", "/tmp/bastion-shots"))
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits_a_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for button in page.locator("main button:visible, main .btn:visible").all():
        assert button.bounding_box()["height"] >= 44


def test_a_phone_enters_a_due_report(tree, phone_page, browser, live_server):
    from django.utils import timezone
    from playwright.sync_api import expect

    today = timezone.localdate()
    households = list(Household.objects.filter(grid=tree.grids[0]).order_by("pk")[:2])
    first = place(tree, household=households[0], starts_on=today - dt.timedelta(days=2))
    place(tree, household=households[1], kind="monitoring", door_sensor=False)
    page = phone_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser_login(page, "grid", PASSWORD)
    page.goto("/")
    card = page.locator(".today-home")
    expect(card).to_contain_text("2名居家人员今日尚有上报或检测待完成")
    page.screenshot(path=str(SHOTS / "home-today-390.png"), full_page=True)
    card.get_by_role("link").click()
    forms = page.locator("form.q-check")
    expect(forms).to_have_count(2)
    _fits_a_phone(page)
    page.screenshot(path=str(SHOTS / "home-due-390.png"), full_page=True)
    form = page.locator(f"form.q-check:has(input[name=measure_id][value='{first.pk}'])")
    form.locator("select[name=half]").select_option("am")
    form.locator("input[name=temperature]").fill("36.6")
    form.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("已登记")
    report = HomeReport.objects.get()
    assert (report.measure_id, report.half, str(report.temperature)) == (first.pk, "am", "36.6")
    again = page.locator(f"form.q-check:has(input[name=measure_id][value='{first.pk}'])")
    expect(again.locator("select[name=half] option")).to_have_count(1)
    expect(again.locator("select[name=half] option")).to_have_text("下午")
    page.goto(reverse("quarantine:home_index"))
    _fits_a_phone(page)
    page.screenshot(path=str(SHOTS / "home-index-390.png"), full_page=True)
    page.goto(reverse("quarantine:home_measure", args=[first.pk]))
    _fits_a_phone(page)
    page.screenshot(path=str(SHOTS / "home-measure-390.png"), full_page=True)
    desktop = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=live_server.url
    )
    wide = desktop.new_page()
    browser_login(wide, "street", PASSWORD)
    wide.goto(reverse("quarantine:home_index"))
    wide.screenshot(path=str(SHOTS / "home-index-desktop.png"), full_page=True)
    wide.goto(reverse("quarantine:home_measure", args=[first.pk]))
    wide.screenshot(path=str(SHOTS / "home-measure-desktop.png"), full_page=True)
    desktop.close()
