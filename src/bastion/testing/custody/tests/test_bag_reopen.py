"""A mistaken seal is undone (issue 14 item 4): the bag goes back to packing with its reason in
its history, on the page and in the service; never once it is boxed, never without a reason,
never from outside the user's area."""

import os
import uuid
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from bastion.core.models import ChangeLog
from bastion.core.testing import PASSWORD, browser_login
from bastion.testing.conftest import fill_tubes
from bastion.testing.custody import services
from bastion.testing.custody.models import Bag, BagStatus

SHOTS = Path(os.environ.get("BASTION_SHOTS", "/tmp/bastion-shots"))


def login(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    assert client.login(username=user.username, password=PASSWORD)
    return client


def sealed_bag(testing, barcode: str = "RB-1") -> Bag:
    fill_tubes(testing, testing.stations[0], ["R-0001", "R-0002", "R-0003"])  # 2 packed
    user = testing.tree.users["grid"]
    bag = services.bag_open(actor=user, round=testing.round, site=testing.sites[0], barcode=barcode)
    for code in ("R-0001", "R-0002"):
        services.tube_pack(actor=user, bag=bag, barcode=code)
    return services.bag_seal(actor=user, bag=Bag.objects.get(pk=bag.pk), counted=2)


def test_a_mistaken_seal_is_undone_from_the_page_with_its_reason(testing):
    bag = sealed_bag(testing)
    client = login(testing.tree.users["grid"])
    page = client.get(reverse("testing:custody_bag", args=[bag.pk])).content.decode()
    assert "Undo the seal" in page

    url = reverse("testing:custody_bag_reopen", args=[bag.pk])
    refused = client.post(url, {"reason": "  "})
    assert refused.status_code == 422 and "Say why the seal is undone." in refused.content.decode()
    assert Bag.objects.get(pk=bag.pk).status == BagStatus.SEALED

    done = client.post(url, {"reason": "漏装一管"}, follow=True)
    html = done.content.decode()
    assert "Bag RB-1 is open again" in html
    bag.refresh_from_db()
    assert (bag.status, bag.counted, bag.sealed_at, bag.tubes) == (BagStatus.OPEN, None, None, 2)
    entry = ChangeLog.objects.filter(object_type="testing.bag", object_id=bag.pk).latest("id")
    assert entry.changes["reason"] == [None, "漏装一管"]
    assert entry.changes["status"] == ["sealed", "open"]
    assert "漏装一管" in html  # the bag's history on its page
    # Packed again and sealed anew with the new count.
    services.tube_pack(actor=testing.tree.users["grid"], bag=bag, barcode="R-0003")
    resealed = services.bag_seal(actor=testing.tree.users["grid"], bag=bag, counted=3)
    assert (resealed.status, resealed.counted) == (BagStatus.SEALED, 3)


def test_a_boxed_bag_keeps_its_seal_and_a_retry_changes_nothing(testing):
    bag = sealed_bag(testing)
    user = testing.tree.users["grid"]
    box = services.box_open(actor=user, round=testing.round, site=testing.sites[0], barcode="RX-1")
    services.bag_box(actor=user, box=box, barcode="RB-1", client_id=uuid.uuid4())
    client = login(user)
    page = client.get(reverse("testing:custody_bag", args=[bag.pk])).content.decode()
    assert "Undo the seal" not in page
    refused = client.post(reverse("testing:custody_bag_reopen", args=[bag.pk]), {"reason": "x"})
    assert refused.status_code == 422
    assert "already in a box" in refused.content.decode()
    assert Bag.objects.get(pk=bag.pk).status == BagStatus.SEALED


def test_another_grids_bag_cannot_be_reopened(testing):
    bag = sealed_bag(testing)
    client = login(testing.tree.users["other_grid"])
    answer = client.post(reverse("testing:custody_bag_reopen", args=[bag.pk]), {"reason": "x"})
    assert answer.status_code == 404
    assert Bag.objects.get(pk=bag.pk).status == BagStatus.SEALED


def test_reopening_an_open_bag_again_is_harmless(testing):
    bag = sealed_bag(testing)
    user = testing.tree.users["grid"]
    services.bag_reopen(actor=user, bag=bag, reason="点数有误")
    logged = ChangeLog.objects.filter(object_type="testing.bag", object_id=bag.pk).count()
    again = services.bag_reopen(actor=user, bag=bag, reason="点数有误")  # the phone retried
    assert again.status == BagStatus.OPEN
    assert ChangeLog.objects.filter(object_type="testing.bag", object_id=bag.pk).count() == logged


def test_the_api_undoes_a_seal_and_refuses_a_boxed_bag(testing):
    from bastion.accounts.services import token_issue

    bag = sealed_bag(testing)
    user = testing.tree.users["grid"]
    client = Client(headers={"authorization": f"Bearer {token_issue(user=user)}"})
    url = f"/api/v1/testing/custody/bags/{bag.pk}/reopen"
    empty = client.post(url, {"reason": ""}, content_type="application/json")
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "reason"
    answer = client.post(url, {"reason": "漏装一管"}, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["status"] == "open"

    services.bag_seal(actor=user, bag=Bag.objects.get(pk=bag.pk), counted=2)
    box = services.box_open(actor=user, round=testing.round, site=testing.sites[0], barcode="RX-2")
    services.bag_box(actor=user, box=box, barcode="RB-1")
    boxed = client.post(url, {"reason": "x"}, content_type="application/json")
    assert boxed.status_code == 409 and boxed.json()["errors"][0]["field"] == "bag"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_undoing_a_seal_on_a_phone(testing, phone_page):
    from playwright.sync_api import expect

    bag = sealed_bag(testing)
    page = phone_page
    browser_login(page, "grid", PASSWORD)
    page.goto(reverse("testing:custody_bag", args=[bag.pk]))
    page.get_by_text("撤销封袋", exact=True).first.click()  # the summary opens the form
    page.locator("#cu-reason").fill("漏装一管")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "bag-undo-seal-390.png"), full_page=True)
    page.locator("#cu-reopen").click()
    expect(page.locator("ul.messages")).to_contain_text("已重新打开")
    expect(page.locator("#cu-scan")).to_be_visible()  # packing again
    expect(page.locator("ol.history")).to_contain_text("漏装一管")
    expect(page.locator("ol.history")).to_contain_text("装入样本管")  # no English field names
    assert "packed" not in page.locator("ol.history").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "bag-reopened-390.png"), full_page=True)
    assert Bag.objects.get(pk=bag.pk).status == BagStatus.OPEN
