"""The closed loop in Debian's chromium: the destination's staff confirm a driver's arrival
by the pass code on a 390 px phone; the pass card and the board with an overdue pass, on a
phone and on a desktop (screenshots for review)."""

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from bastion.accounts.testing import login
from bastion.checkpoints import services
from bastion.checkpoints.loop import services as loop
from bastion.checkpoints.loop.models import LoopPass
from bastion.checkpoints.models import Occupant
from bastion.checkpoints.tests.conftest import entry, person
from bastion.core.testing import PASSWORD, browser_login

SHOTS = Path(os.environ.get("BASTION_SHOTS", "/tmp/bastion-shots"))
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits_a_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for button in page.locator("main button:visible, main .btn:visible").all():
        assert button.bounding_box()["height"] >= 44


def _pass(tree, checkpoint, plate, name, at):
    services.entries_record(
        actor=tree.users["community"],
        place=checkpoint,
        items=[entry(person(decision="escort", name=name), plate=plate, arrived_at=at)],
    )
    return loop.loop_pass_issue(
        actor=tree.users["community"],
        occupant=Occupant.objects.get(name=name),
        destination=tree.communities[1],
        address="新发地市场3号门",
        contact_name="李经理",
        contact_phone="13800138000",
        client_id=uuid.uuid4(),
        at=at,
    )


def test_a_phone_confirms_an_arrival_by_the_code(
    tree, checkpoint, phone_page, browser, live_server
):
    from playwright.sync_api import expect

    login("receiver", "community_staff", tree.communities[1])
    now = timezone.now()
    made = _pass(tree, checkpoint, "冀A12345", "王建国", now - dt.timedelta(minutes=30))
    _pass(tree, checkpoint, "冀B54321", "张三", now - dt.timedelta(hours=5))  # overdue
    page = phone_page
    browser_login(page, "receiver", PASSWORD)
    page.goto(reverse("checkpoints:loop_confirm"))
    page.locator("#loop-code").fill(made.code.lower())
    page.get_by_role("button", name="查找").click()
    expect(page.locator(".loop-code")).to_have_text(made.code)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "loop-confirm-390.png"), full_page=True)
    _fits_a_phone(page)
    page.get_by_role("button", name="司机已到达").click()
    expect(page.locator("#loop-arrived")).to_be_visible()
    page.screenshot(path=str(SHOTS / "loop-confirmed-390.png"), full_page=True)
    made.refresh_from_db()
    assert made.arrived_at is not None

    # The crew's views: the pass card and the board listing the overdue one.
    browser_login(page, "community", PASSWORD)
    page.goto(reverse("checkpoints:loop_pass", args=[made.pk]))
    page.screenshot(path=str(SHOTS / "loop-pass-390.png"), full_page=True)
    _fits_a_phone(page)
    page.goto(reverse("checkpoints:board", args=[checkpoint.pk]))
    expect(page.locator("#loop-waiting li.loop-overdue")).to_have_count(1)
    page.locator("#loop").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "loop-board-390.png"), full_page=True)
    _fits_a_phone(page)
    assert LoopPass.objects.filter(escalated_at__isnull=False).count() == 1

    desktop = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=live_server.url
    ).new_page()
    browser_login(desktop, "community", PASSWORD)
    desktop.goto(reverse("checkpoints:board", args=[checkpoint.pk]) + "#loop")
    desktop.screenshot(path=str(SHOTS / "loop-board-desktop.png"), full_page=True)
    desktop.goto(reverse("checkpoints:loop_pass", args=[made.pk]))
    desktop.screenshot(path=str(SHOTS / "loop-pass-desktop.png"))
    desktop.context.close()


def test_the_station_form_on_a_phone(tree, checkpoint, phone_page, browser, live_server):
    from playwright.sync_api import expect

    from bastion.checkpoints.station.models import StationVisit

    page = phone_page
    browser_login(page, "community", PASSWORD)
    page.goto(reverse("checkpoints:station", args=[checkpoint.pk]))
    form = page.locator("#station-form")
    form.locator('[name="plate"]').fill("冀A12345")
    form.locator('[name="meals"]').fill("2")
    form.locator('[name="rested"]').check()
    form.locator('[name="tested"]').check()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "station-form-390.png"), full_page=True)
    _fits_a_phone(page)
    form.get_by_role("button", name="登记").click()
    expect(page.locator("#station-visits li")).to_have_count(1)
    page.screenshot(path=str(SHOTS / "station-logged-390.png"), full_page=True)
    _fits_a_phone(page)
    visit = StationVisit.objects.get()
    assert (visit.plate, visit.meals, visit.rested, visit.tested) == ("冀A12345", 2, True, True)

    desktop = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=live_server.url
    ).new_page()
    browser_login(desktop, "community", PASSWORD)
    desktop.goto(reverse("checkpoints:station", args=[checkpoint.pk]))
    desktop.screenshot(path=str(SHOTS / "station-desktop.png"), full_page=True)
    desktop.context.close()
