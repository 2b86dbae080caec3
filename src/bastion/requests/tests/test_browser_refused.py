"""In Debian's chromium on a 390 px phone: a meeting's assignment refused (a deadline before
the meeting) keeps what was typed, shows the reason beside the field and leaves that field in
view, far down a long agenda (issue 14 item 8)."""

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
