"""The outbreak response in Debian's chromium, in Chinese: on a 390 px phone a community's
staff opens the waiting case, adjusts its proposal, confirms it and works the board (no
sideways scrolling, buttons at least 44 px tall, the overdue task in red); the board on a
desktop shows the three columns side by side."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bastion.core.testing import PASSWORD, browser_login
from bastion.incidents.models import ControlArea
from bastion.incidents.response import services
from bastion.incidents.response.models import Bundle, Disinfection, Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shots(tmp_path) -> Path:
    return Path(os.environ.get("BASTION_SHOTS", tmp_path))


def _too_small(page, selector: str) -> list[str]:
    return page.evaluate(
        """sel => [...document.querySelectorAll(sel)]
            .filter(e => e.offsetParent && e.getBoundingClientRect().height < 44)
            .map(e => e.textContent.trim())""",
        selector,
    )


def test_phone_confirms_a_case_and_works_its_board(
    tree, phone_page, browser, live_server, tmp_path
):
    shots = _shots(tmp_path)
    case = services.case_record(actor=None, node=tree.units[0], name="王某某")
    page = phone_page
    browser_login(page, "community", PASSWORD)
    page.goto("/incidents/cases/")
    expect(page.locator(".ic-case")).to_contain_text("待确认")
    page.get_by_role("link", name="王某某").click()
    expect(page.locator("h1")).to_contain_text("王某某")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=shots / "case-phone.png", full_page=True)
    # The commander keeps the building sealed but drops the community's precaution.
    page.select_option(f"#lv-{tree.communities[0].pk}", value="")
    page.get_by_role("button", name="确认并下发任务").click()

    expect(page.locator("h1")).to_contain_text("任务看板")
    bundle = Bundle.objects.get()
    assert set(
        ControlArea.objects.filter(lifted_at__isnull=True).values_list("node_id", flat=True)
    ) == {tree.buildings[0].pk, tree.grids[0].pk}
    late = Task.objects.get(bundle=bundle, kind="transfers")
    Task.objects.filter(pk=late.pk).update(deadline=timezone.now() - dt.timedelta(minutes=5))
    page.reload()
    card = page.locator(f"#task-{late.pk}")
    expect(card.locator(".ic-late")).to_have_text("已超时")
    red = card.locator(".ic-late").evaluate("e => getComputedStyle(e).color")
    black = page.locator("h1").evaluate("e => getComputedStyle(e).color")
    assert red != black
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert _too_small(page, ".ic-task-form .btn, .ic-form .btn") == []
    page.screenshot(path=shots / "board-phone.png", full_page=True)

    card.get_by_role("button", name="完成", exact=True).click()
    expect(page.locator(f"#task-{late.pk}")).not_to_have_class("ic-overdue")
    assert Task.objects.get(pk=late.pk).state == "done"
    page.fill("#ds-place", "1单元楼道")
    page.fill("#ds-agent", "含氯消毒液")
    page.fill("#ds-person", "王师傅")
    page.get_by_role("button", name="登记消杀").click()
    expect(page.locator("#disinfection + ul")).to_contain_text("1单元楼道")
    assert Disinfection.objects.get().person == "王师傅"

    desk = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=live_server.url
    )
    wide = desk.new_page()
    browser_login(wide, "community", PASSWORD)
    wide.goto(f"/incidents/bundles/{bundle.pk}/")
    columns = wide.locator(".ic-col").evaluate_all(
        "cols => cols.map(c => Math.round(c.getBoundingClientRect().top))"
    )
    assert len(columns) == 3 and len(set(columns)) == 1  # side by side
    wide.screenshot(path=shots / "board-desktop.png", full_page=True)
    desk.close()
    del case
