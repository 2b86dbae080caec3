"""On a 390 px phone in Debian's chromium: a building chief opens the finding from their
task list and reports the fix with a photo from the camera input; another inspector's
re-check reopens it; the ledger fits the phone. (With SUPERVISION_SHOTS=<dir> the pages are
also saved as screenshots, to look at them.)"""

import datetime as dt
import os

import pytest
from django.utils import timezone

from bastion.core.testing import PASSWORD, browser_login, png_bytes
from bastion.supervision import services
from bastion.supervision.models import Finding, Status
from bastion.supervision.services import FindingIn

from .conftest import photo


def _shot(page, name):
    if folder := os.environ.get("SUPERVISION_SHOTS"):
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_building_chief_reports_a_fix_with_a_photo_on_a_phone(
    tree, world, phone_page, browser, live_server
):
    inspection = services.inspection_record(
        actor=tree.users["street"],
        team=world.team,
        building=tree.buildings[0],
        mode="unannounced",
        findings=[
            FindingIn(
                severity="major",
                item=world.building_items[0],
                text="楼道消杀记录缺12月5日、6日两天",
                photos=photo(),
            )
        ],
        at=timezone.now() - dt.timedelta(hours=2),
    )
    finding = inspection.findings.get()
    page = phone_page
    browser_login(page, "building", PASSWORD)
    page.goto("/supervision/")
    _shot(page, "index-phone")
    _fits(page)
    page.get_by_text("楼道消杀记录缺").first.click()
    page.wait_for_url(f"**/supervision/findings/{finding.pk}/")
    page.get_by_label("完成情况").fill("已补记两天消杀记录，并张贴消杀公示")
    page.set_input_files(
        "input[name=photo]",
        files=[{"name": "fix.png", "mimeType": "image/png", "buffer": png_bytes(b"GPS 1,2")}],
    )
    button = page.get_by_role("button", name="提交整改")
    box = button.bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= 390
    _shot(page, "finding-fix-phone")
    button.click()
    page.wait_for_url(f"**/supervision/findings/{finding.pk}/")
    page.get_by_text("整改已反馈").first.wait_for()
    _fits(page)
    finding.refresh_from_db()
    assert finding.status == Status.FIXED
    assert finding.fix_note == "已补记两天消杀记录，并张贴消杀公示"
    assert finding.photos.filter(kind="fix").count() == 1
    # The chief who fixed it is offered no re-check.
    assert page.get_by_role("button", name="提交回头看").count() == 0

    # Another inspector re-checks on a phone and reopens it.
    other = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", base_url=live_server.url
    ).new_page()
    browser_login(other, "community", PASSWORD)
    other.goto(f"/supervision/findings/{finding.pk}/")
    other.get_by_text("未整改到位：重新交办").click()
    other.get_by_label("备注").fill("公示未张贴在一单元")
    _shot(other, "finding-recheck-phone")
    other.get_by_role("button", name="提交回头看").click()
    other.get_by_text("回头看已记录").first.wait_for()
    finding = Finding.objects.get(pk=finding.pk)
    assert (finding.status, finding.reopened) == (Status.OPEN, 1)
    other.goto(f"/supervision/ledger/?node={tree.grids[0].pk}")
    _shot(other, "ledger-phone")
    _fits(other)
    desk = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=live_server.url
    ).new_page()
    browser_login(desk, "street", PASSWORD)
    desk.goto(f"/supervision/ledger/?node={tree.communities[0].pk}")
    _shot(desk, "ledger-desktop")
    desk.goto(
        f"/supervision/inspect/?team={world.team.pk}&target=building:{tree.buildings[0].pk}"
        "&mode=planned"
    )
    _shot(desk, "checklist-desktop")
    # The checklist on the street commander's phone: an item's severity and photo show once
    # it is ticked as failing.
    street = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", base_url=live_server.url
    ).new_page()
    browser_login(street, "street", PASSWORD)
    street.goto(
        f"/supervision/inspect/?team={world.team.pk}&target=building:{tree.buildings[0].pk}"
        "&mode=planned"
    )
    photo_input = street.locator(f"input[name=photo_{world.building_items[0].pk}]")
    assert not photo_input.is_visible()
    street.get_by_text("楼道消杀记录").click()
    assert photo_input.is_visible()
    _shot(street, "checklist-phone")
    _fits(street)
