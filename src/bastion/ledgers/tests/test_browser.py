"""The import in Debian's chromium on a 390 px phone: upload a file, watch the job page poll
its fragment until the result shows; the error table of a rejected file fits the phone."""

import os

import pytest

from bastion.core.testing import PASSWORD, browser_login
from bastion.ledgers import services
from bastion.ledgers.models import ImportJob
from bastion.ledgers.tests.ledger_files import good_rows, xlsx_bytes

SHOTS = os.environ.get("BASTION_SCREENSHOTS")  # a folder to save screenshots in, when set


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_job_page_polls_until_the_import_is_done(tree, phone_page, immediate_tasks):
    page = phone_page
    browser_login(page, "street", PASSWORD)
    page.goto("/ledgers/import/")
    shot(page, "import")
    job = services.import_job_create(
        user=tree.users["street"],
        node=tree.street,
        filename="台账.xlsx",
        content=xlsx_bytes(good_rows(30)),
    )
    page.goto(f"/ledgers/import/{job.pk}/")
    page.locator("#job-progress progress").wait_for()
    shot(page, "job-queued")
    services.import_run(job_id=job.pk)  # what the worker does, while the page polls
    page.locator("#job-progress .result.ok").wait_for(timeout=10_000)
    assert "30" in page.locator("#job-progress .result.ok").inner_text()
    assert page.locator("[hx-trigger]").count() == 0  # polling stopped
    shot(page, "job-done")


@pytest.mark.browser
def test_upload_a_bad_file_and_read_the_problems_on_a_phone(
    tree, phone_page, immediate_tasks, tmp_path
):
    rows = good_rows(6)
    rows[1][1] = rows[1][1][:-1] + ("1" if rows[1][1][-1] == "0" else "0")
    rows[3][7] = "9单元"
    rows[4][2] = "1380013800"
    path = tmp_path / "居民台账.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    page = phone_page
    browser_login(page, "street", PASSWORD)
    page.goto("/ledgers/import/")
    page.set_input_files("input[type=file]", str(path))
    page.click("form.ledger-form button[type=submit]")
    page.locator(".problems tbody tr").first.wait_for()
    assert page.locator(".problems tbody tr").count() == 3
    assert ImportJob.objects.get().status == "rejected"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "job-rejected")
    page.goto("/ledgers/export/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "export")


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280])
def test_update_mode_preview_then_apply_in_the_browser(
    tree, browser, live_server, immediate_tasks, tmp_path, width
):
    rows = good_rows(3)
    services.residents_import(
        actor=tree.users["street"], node=tree.street, filename="a.xlsx", content=xlsx_bytes(rows)
    )
    rows[0][0], rows[0][2], rows[1][10] = "导入零", "13712345678", "外出"
    path = tmp_path / "居民台账-更新.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    context = browser.new_context(
        viewport={"width": width, "height": 844}, locale="zh-CN", base_url=live_server.url
    )
    page = context.new_page()
    browser_login(page, "street", PASSWORD)
    page.goto("/ledgers/import/")
    choice = page.locator("label:has(input[name=mode][value=update])")
    assert choice.bounding_box()["height"] >= 44
    choice.click()
    page.set_input_files("input[type=file]", str(path))
    page.click("form.ledger-form button[type=submit]")
    page.locator(".changes tbody tr").first.wait_for()
    table = page.locator(".changes").inner_text()
    assert "137****5678" in table and "13712345678" not in table and "外出" in table
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"update-preview-{width}")
    page.click("text=确认全部修改")
    page.locator("#job-progress .result.ok").wait_for()
    assert "已更新 2 名居民" in page.locator("#job-progress .result.ok").inner_text()
    shot(page, f"update-done-{width}")
    context.close()
