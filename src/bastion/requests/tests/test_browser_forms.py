"""In Debian's chromium on a 390 px phone. A meeting's assignment refused (a deadline before
the meeting) keeps what was typed, shows the reason beside the field and leaves that field in
view, far down a long agenda (issue 14 item 8); the errand form's place found by typing its
address (item 5)."""

import datetime as dt
import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bastion.core.testing import PASSWORD, browser_login
from bastion.requests.models import Request


@pytest.mark.browser
def test_a_refused_assignment_keeps_the_input_beside_its_error(phone_page, bring, meetings):
    _, later = meetings
    items = []
    for n in range(6):
        r = bring("on_agenda", "consult", title=f"议题{n + 1}：楼道堆放杂物需要清理")
        Request.objects.filter(pk=r.pk).update(meeting=later)
        items.append(r)
    last = items[-1]
    too_early = timezone.localdate(later.starts_at) - dt.timedelta(days=3)

    page = phone_page
    browser_login(page, "community", PASSWORD)
    page.goto(f"/requests/meetings/{later.pk}/")
    form = page.locator(f"#r{last.pk} form")
    form.locator("input[name$=assignee]").fill("鹿鸣物业 王经理")
    form.locator("input[name$=due_on]").fill(too_early.isoformat())
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()

    form = page.locator(f"#r{last.pk} form")
    # What was typed is still there ...
    expect(form.locator("input[name$=assignee]")).to_have_value("鹿鸣物业 王经理")
    expect(form.locator("input[name$=due_on]")).to_have_value(too_early.isoformat())
    # ... the reason stands beside the field it is about, and the phone shows it.
    error = form.locator(".has-error .errorlist")
    expect(error).to_have_count(1)
    expect(error).to_be_in_viewport()
    expect(form.locator("input[name$=due_on]")).to_be_in_viewport()
    expect(form.locator("input[name$=due_on]")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    if shots := os.environ.get("BASTION_SCREENSHOTS"):
        page.screenshot(path=os.path.join(shots, "requests-assign-refused.png"))
    last.refresh_from_db()
    assert (last.status, last.assignee) == ("on_agenda", "")


@pytest.mark.browser
def test_the_errand_place_is_found_by_typing_its_address(phone_page, tree, household):
    page = phone_page
    browser_login(page, "community", PASSWORD)
    page.goto("/requests/errands/new/")
    options = page.locator("select[name=node] option:not([value=''])")
    expect(options).to_have_count(8)  # the community's two grids
    page.locator("#place-q").fill("112号楼 2单元")
    expect(options).to_have_count(1)
    expect(options.first).to_have_text("网格1-1 · 112号楼 · 2单元")
    page.locator("#place-q").press("Enter")  # searching never posts the order
    assert page.url.endswith("/requests/errands/new/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    if shots := os.environ.get("BASTION_SCREENSHOTS"):
        page.screenshot(path=os.path.join(shots, "requests-errand-place.png"))
    page.fill("input[name=room]", "202")
    page.fill("textarea[name=items]", "布洛芬 × 1盒")
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/requests/errands/*/")
    assert "112号楼" in page.locator("main").inner_text()
