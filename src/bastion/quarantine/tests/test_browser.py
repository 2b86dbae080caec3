"""The site's phone page in Debian's chromium on a 390 px phone: the crew enters the checks
still due from the list (one with a cough), each saved person leaves the list, nothing scrolls
sideways and every button is a thumb's height. Screenshots of the board, a stay and the
release notice, on the phone and the desktop, for a person to look at."""

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.urls import reverse

from bastion.core.testing import PASSWORD, browser_login
from bastion.quarantine import services
from bastion.quarantine.models import HealthCheck
from bastion.quarantine.services import PersonInput
from bastion.quarantine.tests.conftest import ID_2, admit

SHOTS = Path(os.environ.get("BASTION_SHOTS", "/tmp/bastion-shots"))
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits_a_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for button in page.locator("main button:visible, main .btn:visible").all():
        assert button.bounding_box()["height"] >= 44


def test_a_phone_enters_the_due_checks(tree, site, rooms, staff, phone_page, browser, live_server):
    from django.utils import timezone
    from playwright.sync_api import expect

    now = timezone.now()
    arrival = now - dt.timedelta(hours=2)
    one = admit(staff, site, rooms[0], at=now - dt.timedelta(hours=1), arrival_at=arrival)
    two = admit(
        staff, site, rooms[2], person=PersonInput("李秀英", "id_card", ID_2),
        at=now - dt.timedelta(hours=1), arrival_at=arrival,
    )  # fmt: skip
    page = phone_page
    browser_login(page, "street", PASSWORD)
    page.goto(reverse("quarantine:checks", args=[site.pk]))
    forms = page.locator("form.q-check")
    expect(forms).to_have_count(2)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "quarantine-checks-390.png"), full_page=True)
    _fits_a_phone(page)
    forms.first.locator("input[name=temperature]").fill("36.6")
    forms.first.get_by_role("button", name="保存").click()
    expect(page.locator("form.q-check")).to_have_count(1)
    last = page.locator("form.q-check")
    last.locator("input[name=temperature]").fill("37.8")
    last.get_by_label("咳嗽").check()
    last.get_by_role("button", name="保存").click()
    expect(page.locator(".empty-state")).to_be_visible()
    checks = {c.stay_id: c for c in HealthCheck.objects.all()}
    assert (checks[one.pk].abnormal, checks[two.pk].abnormal) == (False, True)
    assert checks[two.pk].symptoms == "cough"
    page.goto(reverse("quarantine:board", args=[site.pk]))
    page.screenshot(path=str(SHOTS / "quarantine-board-390.png"), full_page=True)
    _fits_a_phone(page)
    # The abnormal check planned a transfer: the board lists the person "to transfer", and
    # their page names where to, with the form filled for the vehicle and the escort.
    waiting = page.locator("h2:has-text('待转运') + ul")
    expect(waiting.locator("li")).to_have_count(1)
    expect(waiting).to_contain_text("A-103")
    page.goto(reverse("quarantine:stay", args=[two.pk]))
    expect(page.locator(".q-planned")).to_contain_text("健康监测异常")
    expect(page.locator("input[name=to]")).to_have_value("定点医院发热门诊")
    _fits_a_phone(page)
    page.screenshot(path=str(SHOTS / "quarantine-to-transfer-390.png"), full_page=True)
    page.goto(reverse("quarantine:rooms", args=[site.pk]))
    _fits_a_phone(page)
    page.screenshot(path=str(SHOTS / "quarantine-rooms-390.png"), full_page=True)
    services.stay_release(actor=staff, stay=one, reason="核酸阴性，医生评估")
    page.goto(reverse("quarantine:stay", args=[one.pk]))
    _fits_a_phone(page)
    page.screenshot(path=str(SHOTS / "quarantine-stay-390.png"), full_page=True)
    desktop = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=live_server.url
    )
    wide = desktop.new_page()
    browser_login(wide, "street", PASSWORD)
    wide.goto(reverse("quarantine:board", args=[site.pk]))
    wide.screenshot(path=str(SHOTS / "quarantine-board-desktop.png"), full_page=True)
    wide.goto(reverse("quarantine:stay", args=[two.pk]))
    wide.screenshot(path=str(SHOTS / "quarantine-to-transfer-desktop.png"), full_page=True)
    wide.goto(reverse("quarantine:notice", args=[one.pk]))
    expect(wide.locator("h1")).to_have_text("解除集中隔离告知书")
    wide.screenshot(path=str(SHOTS / "quarantine-notice-desktop.png"), full_page=True)
    wide.emulate_media(media="print")
    wide.pdf(path=str(SHOTS / "quarantine-notice.pdf"), format="A4")
    desktop.close()


def test_a_phone_admits_from_a_call_list(tree, site, rooms, phone_page, browser, live_server):
    from playwright.sync_api import expect

    from bastion.geo.models import Resident
    from bastion.quarantine.models import Stay
    from bastion.quarantine.tests.test_call_list_intake import _row

    resident = Resident.objects.filter(grid=tree.grids[0]).order_by("pk").first()
    row = _row(tree, tree.communities[0], resident, 1)
    page = phone_page
    browser_login(page, "street", PASSWORD)
    page.goto(reverse("quarantine:intake", args=[site.pk]))
    page.locator("#call-q").fill(resident.id_number[-4:])
    page.get_by_role("button", name="搜索").click()
    form = page.locator("#call-row-form")
    expect(form.locator("select[name=call_row_id] option")).to_have_count(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "quarantine-intake-call-390.png"), full_page=True)
    _fits_a_phone(page)
    form.get_by_role("button", name="入住").click()
    expect(page).to_have_url(re.compile(r"/quarantine/\d+/(#.*)?$"))
    assert Stay.objects.get().call_row_id == row.pk
    desktop = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=live_server.url
    )
    wide = desktop.new_page()
    browser_login(wide, "street", PASSWORD)
    _row(tree, tree.communities[1], Resident.objects.filter(grid=tree.grids[2]).first(), 2)
    wide.goto(reverse("quarantine:intake", args=[site.pk]))
    wide.screenshot(path=str(SHOTS / "quarantine-intake-call-desktop.png"), full_page=True)
    desktop.close()
