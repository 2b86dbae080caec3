"""The checkpoint's entry page in Debian's chromium on a 390 px phone: a plate seen before
fills its people (numbers masked, stored in full by the server); the page opens offline once
visited, vehicles saved offline wait in the queue and are stored once the network is back;
the gate refuses a sealed unit's resident with the reason shown."""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from bastion.checkpoints import services
from bastion.checkpoints.models import Entry, Occupant, Passage
from bastion.checkpoints.tests.conftest import entry, person
from bastion.core.testing import PASSWORD, browser_login
from bastion.geo.models import Resident
from bastion.incidents.services import control_set

SHOTS = Path(os.environ.get("BASTION_SHOTS", "/tmp/bastion-shots"))
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits_a_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for button in page.locator("main button:visible, main .btn:visible").all():
        assert button.bounding_box()["height"] >= 44


def test_entry_page_fills_a_known_plate_and_keeps_its_queue_offline(
    tree, checkpoint, cabled_phone_page, cable
):
    from playwright.sync_api import expect

    second = person(driver=False, name="李秀英", doc_number="110105198001010024")
    services.entries_record(
        actor=tree.users["community"],
        place=checkpoint,
        items=[entry(person(), second, arrived_at=None)],
    )
    page, context = cabled_phone_page, cabled_phone_page.context
    url = reverse("checkpoints:entry", args=[checkpoint.pk])
    browser_login(page, "community", PASSWORD)
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "1")

    page.locator("#cp-plate").fill("冀A 12345")
    page.locator("#cp-plate").press("Tab")
    expect(page.locator("#cp-seen")).to_be_visible()
    expect(page.locator("fieldset.cp-person")).to_have_count(2)
    doc = page.locator("fieldset.cp-person").first.locator('[data-f="doc_number"]')
    assert "1101**********002X" in doc.get_attribute("placeholder")
    assert page.locator("#cp-cargo").input_value() == "蔬菜"
    temperatures = page.locator('[data-f="temperature"]')
    temperatures.nth(0).fill("36.6")
    temperatures.nth(1).fill("36.8")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "checkpoint-entry-known-plate-390.png"), full_page=True)
    _fits_a_phone(page)
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#cp-sync")).to_have_attribute("data-count", "0")
    expect(page.locator("#cp-said")).to_contain_text("冀A 12345")
    newest = Entry.objects.order_by("-id").first()
    assert Entry.objects.count() == 2
    assert sorted(Occupant.objects.filter(entry=newest).values_list("doc_number", "phone")) == [
        ("11010519491231002X", "13912345678"),
        ("110105198001010024", "13912345678"),
    ]

    cable.cut()
    reloaded = page.reload()
    assert reloaded is not None and reloaded.from_service_worker
    page.locator("#cp-plate").fill("京AD12345")
    page.locator("#cp-kind").select_option("car")
    box = page.locator("fieldset.cp-person").first
    box.locator('[data-f="name"]').fill("赵敏")
    box.locator('[data-f="doc_kind"]').select_option("passport")
    box.locator('[data-f="doc_number"]').fill("X1234567")
    box.locator('[data-f="temperature"]').fill("38.1")
    box.locator('[data-f="decision"]').select_option("fever_clinic")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#cp-sync")).to_have_attribute("data-count", "1")
    page.screenshot(path=str(SHOTS / "checkpoint-entry-offline-390.png"), full_page=True)
    _fits_a_phone(page)
    assert Entry.objects.count() == 2

    # closed and opened again, still offline: the queue is kept
    page.close()
    again = context.new_page()
    opened = again.goto(url)
    assert opened is not None and opened.from_service_worker
    expect(again.locator("#cp-sync")).to_have_attribute("data-count", "1")

    assert Entry.objects.count() == 2
    cable.mend()
    again.click("#cp-sync-now")
    expect(again.locator("#cp-sync")).to_have_attribute("data-count", "0")
    stored = Occupant.objects.get(entry__plate="京AD12345")
    assert (stored.name, stored.decision, str(stored.temperature)) == (
        "赵敏",
        "fever_clinic",
        "38.1",
    )


def test_gate_turns_back_a_sealed_units_resident_on_a_phone(tree, gate, phone_page):
    from playwright.sync_api import expect

    control_set(actor=tree.users["admin"], node=tree.units[0], level="sealed", reason="阳性病例")
    resident = Resident.objects.filter(unit=tree.units[0]).order_by("pk").first()
    page = phone_page
    browser_login(page, "community", PASSWORD)
    page.goto(reverse("checkpoints:gate", args=[gate.pk]))
    page.locator("#gate-q").fill(resident.id_number[-4:])
    row = page.locator("li.gate-person").first
    expect(row).to_be_visible()
    row.get_by_role("button", name="出").click()
    expect(page.locator(".messages")).to_contain_text("单元已封控")
    page.screenshot(path=str(SHOTS / "checkpoint-gate-390.png"), full_page=True)
    _fits_a_phone(page)
    assert Passage.objects.get().refused
