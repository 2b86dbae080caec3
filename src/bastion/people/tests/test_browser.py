"""The people pages in Debian's chromium on a 390 px phone."""

import pytest

from bastion.accounts.models import RevealLog
from bastion.core.testing import PASSWORD, browser_login
from bastion.people.tests.test_views import reserve_post


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_grid_chief_on_a_phone_reveals_a_number_and_reads_the_report(tree, staffed, phone_page):
    page = phone_page
    browser_login(page, "grid", PASSWORD)
    reserve_post(tree)
    page.goto("/people/posts/")
    # A chief's number is public (the building notice); a reserve's is masked until revealed.
    assert "13900000003" in page.locator("tr", has_text="楼长丙").inner_text()
    row = page.locator("tr", has_text="机动丁")
    assert "137****0099" in row.inner_text()
    row.locator("form[action*='/reveal/'] button").click()  # htmx swaps it in place
    row.locator(".revealed a").wait_for()
    assert row.locator(".revealed a").inner_text() == "13700000099"
    assert RevealLog.objects.filter(user=tree.users["grid"], field="phone").count() == 1
    for path in (
        "/people/posts/",
        "/people/vacancies/",
        f"/people/buildings/{tree.buildings[0].pk}/notice/",
    ):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
