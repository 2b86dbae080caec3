"""The dashboard in Debian's chromium on a 390 px phone: the charts draw (ECharts canvases)."""

import pytest

from bastion.core.testing import PASSWORD, browser_login
from bastion.reports import services


@pytest.mark.browser
def test_the_dashboard_draws_its_charts_on_a_phone(tree, phone_page):
    services.report_compute(day=services.local_today())
    page = phone_page
    browser_login(page, "community", PASSWORD)
    page.goto(f"/reports/{tree.communities[0].pk}/")
    page.locator("#rp-trend canvas").wait_for()
    page.locator("#rp-children canvas").wait_for()
    assert page.locator(".rp-board .rp-tile").count() == 4
    # Nothing wider than the phone: the ledger scrolls inside its own box.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    box = page.locator("#rp-trend canvas").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 200


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_report_says_when_it_was_computed_and_refreshes_after_a_recompute(
    tree, phone_page, settings, tmp_path
):
    """Not "live": the time of the figures and how long ago. Recomputing queues a task; the
    page follows it (htmx) and shows the fresh figures by itself when the worker is done."""
    import datetime as dt
    import io

    from django.core.management import call_command
    from django.utils import timezone

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    earlier = timezone.now() - dt.timedelta(minutes=15)
    services.report_compute(day=services.local_today(), now=earlier)
    page = phone_page
    browser_login(page, "community", PASSWORD)
    page.goto(f"/reports/{tree.communities[0].pk}/")
    state = page.locator(".rp-state")
    at = timezone.localtime(earlier).strftime("%H:%M")
    assert state.locator(".rp-asof").inner_text() == f"截至 {at}"
    assert state.locator(".rp-ago").inner_text().replace("\xa0", " ") == "15 分钟前计算"
    assert "实时" not in state.inner_text()

    page.get_by_role("button", name="重新计算").click()
    notice = page.locator("#rp-recompute")
    notice.wait_for()
    assert "正在重新计算" in notice.inner_text()
    assert "task=" in page.url
    page.screenshot(path=tmp_path / "recomputing.png", full_page=True)
    # The worker runs the queued task; nobody reloads the page.
    call_command(
        "db_worker", batch=True, startup_delay=False, stdout=io.StringIO(), stderr=io.StringIO()
    )
    page.wait_for_url(lambda url: "task=" not in url, timeout=10_000)
    fresh = page.locator(".rp-state .rp-asof").inner_text()
    assert fresh != f"截至 {at}"
    assert page.locator(".rp-state .rp-ago").inner_text().replace("\xa0", " ") in (
        "0 分钟前计算",
        "1 分钟前计算",
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
