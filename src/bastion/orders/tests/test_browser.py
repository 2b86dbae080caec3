"""A grid chief acknowledges an order with one tap on a 390 px phone and reports it done
with a photo, in Debian's chromium; the commander's board then shows it."""

import datetime as dt

import pytest
from django.utils import timezone

from bastion.core.testing import PASSWORD, browser_login
from bastion.orders import services
from bastion.orders.models import Recipient
from bastion.requests.tests.conftest import PNG


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_grid_chief_acknowledges_and_reports_done_on_a_phone(
    tree, chiefs, phone_page, settings, tmp_path, browser, live_server
):
    settings.MEDIA_ROOT = tmp_path / "media"
    order = services.order_issue(
        actor=tree.users["street"],
        node=tree.communities[0],
        title="今晚全员核酸：各楼栋组织居民分批下楼",
        text="请于18:30前逐户通知，按单元错峰下楼，行动不便人员报社区安排入户采样。",
        roles=["grid_chief", "building_chief"],
        priority="urgent",
        due_at=timezone.now() + dt.timedelta(hours=3),
    )
    page = phone_page
    browser_login(page, "grid", PASSWORD)
    page.goto("/orders/")
    page.get_by_text("今晚全员核酸").first.click()
    page.wait_for_url(f"**/orders/{order.pk}/mine/")
    tap = page.get_by_role("button", name="签收")
    box = tap.bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= 390
    tap.click()
    page.wait_for_url(f"**/orders/{order.pk}/mine/")
    page.get_by_text("已签收").first.wait_for()
    row = Recipient.objects.get(order=order, person__name="网格长一")
    assert row.acknowledged_at is not None and row.done_at is None

    page.get_by_label("完成情况").fill("已通知到每栋楼，居民分三批下楼")
    page.set_input_files(
        "input[name=photo]", files=[{"name": "photo.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.get_by_role("button", name="回报完成").click()
    page.wait_for_url(f"**/orders/{order.pk}/mine/")
    page.get_by_text("已回报完成").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    row.refresh_from_db()
    assert row.done_note == "已通知到每栋楼，居民分三批下楼" and row.done_photo

    # The commander's board, past the deadline: the tallies and the call list, on a phone
    # and on a desktop.
    from bastion.orders.models import Order

    Order.objects.filter(pk=order.pk).update(
        issued_at=timezone.now() - dt.timedelta(hours=1),
        ack_by=timezone.now() - dt.timedelta(minutes=1),
    )
    street = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", base_url=live_server.url
    ).new_page()
    browser_login(street, "street", PASSWORD)
    street.goto(f"/orders/{order.pk}/")
    street.get_by_text("督促电话名单").wait_for()
    assert street.locator("ul.od-calls").inner_text().count("楼长") == 3
    assert street.evaluate("document.documentElement.scrollWidth") <= 390
    street.goto("/orders/new/")
    assert street.evaluate("document.documentElement.scrollWidth") <= 390
