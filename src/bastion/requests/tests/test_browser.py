"""In Debian's chromium on a 390 px phone: a household orders medicine from its own page (its
secret link, no login), the community hands it to a courier, the courier picks it up and
delivers it with the household's code, and the household confirms and rates it."""

import os

import pytest

from bastion.core.testing import PASSWORD, browser_login
from bastion.requests import services
from bastion.requests.models import Errand

SHOTS = os.environ.get("BASTION_SCREENSHOTS")  # a folder to save screenshots in, when set


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"requests-{name}.png"), full_page=True)


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.browser
def test_household_orders_medicine_and_a_courier_delivers_it(
    tree, phone_page, household, courier, staff
):
    page = phone_page
    token = services.link_token(services.link_issue(actor=staff, household=household))

    # The household scans its QR code and orders medicine.
    page.goto(f"/requests/h/{token}/")
    assert fits_the_phone(page)
    shot(page, "home")
    page.click("a.rq-big-medicine")
    page.check("input[name=urgency][value=medicine]")
    page.fill("textarea[name=items]", "布洛芬缓释胶囊 × 1盒\n电子体温计")
    page.fill("input[name=payment_note]", "微信转账")
    assert fits_the_phone(page)
    shot(page, "errand-new")
    page.click("form button[type=submit]")
    page.locator(".rq-code b").wait_for()
    errand = Errand.objects.get()
    assert (errand.urgency, errand.household, errand.status) == ("medicine", household, "ordered")
    code = page.locator(".rq-code b").inner_text().strip()
    assert code == errand.delivery_code
    assert fits_the_phone(page)
    shot(page, "errand-ordered")

    # The community accepts it and gives it to the courier.
    errand = services.errand_accept(actor=staff, errand=errand)
    services.errand_assign(actor=staff, errand=errand, courier=courier)

    # The courier logs in on their phone, picks it up and delivers it with the code.
    courier_page = page.context.browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        base_url=page.url.split("/requests/")[0],
    ).new_page()
    browser_login(courier_page, "courier", PASSWORD)
    courier_page.goto("/requests/courier/")
    card = courier_page.locator(f"#e{errand.pk}")
    assert "布洛芬缓释胶囊" in card.inner_text()
    assert fits_the_phone(courier_page)
    shot(courier_page, "courier-assigned")
    card.locator("form[action$='/pick_up/'] button").click()
    courier_page.locator(f"#e{errand.pk} input[name=code]").wait_for()
    assert Errand.objects.get().status == "picked_up"
    courier_page.fill(f"#e{errand.pk} input[name=code]", code)
    shot(courier_page, "courier-deliver")
    courier_page.click(f"#e{errand.pk} form[action$='/deliver/'] button[type=submit]")
    courier_page.locator(".messages li").wait_for()
    delivered = Errand.objects.get()
    assert (delivered.status, delivered.proof) == ("delivered", "code")
    assert courier_page.locator(f"#e{errand.pk}").count() == 0
    courier_page.context.close()

    # The household confirms it got everything, and rates it.
    page.reload()
    page.locator("input[name=rating][value='5']").check()
    assert fits_the_phone(page)
    shot(page, "errand-delivered")
    page.click("form[action$='/confirm/'] button[type=submit]")
    page.locator(".rq-stars").wait_for()
    confirmed = Errand.objects.get()
    assert (confirmed.status, confirmed.rating) == ("confirmed", 5)
    shot(page, "errand-confirmed")
