"""On a 390 px phone in Debian's chromium, a packer with a keyboard-like scanner (it types
the code and Enter into whatever has the focus) opens a bag, packs three tubes, is refused
on a wrong count with the missing tube named, scans the bag's tubes to find it, and seals on
the right count. No click is needed between scans."""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from bastion.core.testing import PASSWORD, browser_login
from bastion.testing.conftest import fill_tubes
from bastion.testing.custody.models import Bag

SHOTS = Path(os.environ.get("BASTION_SHOTS", "/tmp/bastion-shots"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_bag_is_packed_and_sealed_by_scanning_on_a_phone(testing, phone_page):
    from playwright.sync_api import expect

    fill_tubes(testing, testing.stations[0], ["K-0001", "K-0002", "K-0003"])
    page = phone_page
    keyboard = page.keyboard

    def scan(code: str) -> None:  # what a USB or phone scanner does
        keyboard.type(code)
        keyboard.press("Enter")

    browser_login(page, "grid", PASSWORD)
    page.goto(reverse("testing:custody", args=[testing.round.pk]))
    expect(page.locator("#cu-bag")).to_be_focused()
    scan("KB-1")
    expect(page.locator("h1")).to_contain_text("KB-1")
    for n, code in enumerate(["K-0001", "K-0002", "K-0003"], start=1):
        expect(page.locator("#cu-scan")).to_be_focused()
        scan(code)
        expect(page.locator("#cu-tubes")).to_have_text(str(n))
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "custody-bag-packed-390.png"), full_page=True)

    page.locator("#cu-count").focus()
    scan("2")  # the packer counted two
    refusal = page.locator("#cu-refusal")
    expect(refusal).to_contain_text("系统内有 3 管，清点为 2 管")  # the phone reads Chinese
    expect(page.locator("#cu-count")).to_be_focused()  # the count is kept, focus ready
    expect(page.locator("#cu-count")).to_have_value("2")
    page.screenshot(path=str(SHOTS / "custody-bag-refused-390.png"), full_page=True)

    # Scan what is physically in the bag into the list (Enter starts a new line there).
    page.locator("#cu-scanned").focus()
    scan("K-0001")
    scan("K-0003")
    page.locator("#cu-count").fill("")
    page.locator("#cu-count").focus()
    scan("2")
    expect(page.locator("#cu-refusal [data-field=missing]")).to_contain_text("K-0002")
    assert Bag.objects.get(barcode="KB-1").status == "open"

    # K-0002 turns up under the table: the bag holds three after all.
    page.locator("#cu-scanned").fill("")
    page.locator("#cu-count").fill("")
    page.locator("#cu-count").focus()
    scan("3")
    expect(page.locator(".messages")).to_contain_text("转运袋 KB-1 已封袋，共 3 管。")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "custody-bag-sealed-390.png"), full_page=True)
    bag = Bag.objects.get(barcode="KB-1")
    assert (bag.status, bag.counted, bag.tubes) == ("sealed", 3, 3)
