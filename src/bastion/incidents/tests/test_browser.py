"""Control areas in Debian's chromium on a 390 px phone, in Chinese: setting a level asks
first, saying whom it reaches; a mistaken change is reverted from the list, with history."""

import pytest
from playwright.sync_api import expect

from bastion.core.models import ChangeLog
from bastion.core.testing import PASSWORD, browser_login
from bastion.incidents.models import ControlArea

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_phone_confirms_a_seal_with_its_reach_and_reverts_the_mistake(tree, phone_page, tmp_path):
    page = phone_page
    browser_login(page, "grid", PASSWORD)
    page.goto("/incidents/")
    # Nothing is chosen for the clerk: no first community, no "sealed" by default.
    expect(page.locator("#ic-node")).to_have_value("")
    expect(page.locator("#ic-level")).to_have_value("")
    page.select_option("#ic-node", label="楼栋 · 111号楼")
    page.select_option("#ic-level", value="sealed")
    page.fill("#ic-reason", "1单元阳性病例")
    page.get_by_role("button", name="设定").click()

    # The confirmation says what happens, to whom; nothing is written before it.
    expect(page.locator("h1")).to_have_text("确认设定管控级别？")
    expect(page.locator(".ic-reach")).to_have_text("涉及 8 户、16 名居民。")
    expect(page.locator(".ic-change dd").nth(1)).to_have_text("封控区")
    expect(page.locator(".ic-applies")).to_contain_text("足不出户")
    assert not ControlArea.objects.exists()
    assert page_width(page) <= 390
    page.screenshot(path=tmp_path / "confirm-seal-phone.png", full_page=True)
    page.get_by_role("button", name="确认设定").click()

    row = page.locator("table.ic-areas tbody tr").first
    expect(row).to_contain_text("封控区")
    area = ControlArea.objects.get()
    assert (area.node_id, area.level, area.active) == (tree.buildings[0].pk, "sealed", True)

    # It was the wrong building: revert it, after being told what comes back.
    row.get_by_role("button", name="撤销").click()
    expect(page.locator("h1")).to_have_text("确认撤销最近一次变更？")
    expect(page.locator(".ic-what")).to_contain_text("将恢复为无管控")
    expect(page.locator(".ic-reach")).to_have_text("涉及 8 户、16 名居民。")
    page.get_by_role("button", name="确认撤销").click()
    expect(page.locator(".messages, .message").first).to_contain_text("变更已撤销")
    expect(page.locator("table.ic-areas tbody tr").first).to_contain_text("已撤销")
    area.refresh_from_db()
    assert (area.active, area.reverted) == (False, True)
    assert (
        ChangeLog.objects.filter(object_id=area.pk, object_type="incidents.controlarea").count()
        == 2
    )
    assert page_width(page) <= 390
    page.screenshot(path=tmp_path / "areas-phone.png", full_page=True)
