"""Truck drivers in a closed loop: a driver let through under escort gets a pass code; the
destination's staff confirm the arrival (twice is once); a pass not confirmed in time is
listed on the checkpoint's board and escalated once through `notices`; an unknown, foreign
or expired code is refused naming `code`; bad input writes nothing."""

import datetime as dt
import uuid

import pytest
from django.test import Client

from bastion.accounts.testing import api_client, login
from bastion.checkpoints import services
from bastion.checkpoints.loop import services as loop
from bastion.checkpoints.loop.models import CODE_ALPHABET, LoopPass
from bastion.checkpoints.models import Occupant
from bastion.checkpoints.tests.conftest import NOW, entry, person
from bastion.core.errors import DomainError
from bastion.notices.models import Delivery, Notification

URL = "/api/v1/checkpoints"


def _escorted(tree, checkpoint, plate="冀A12345", name="王建国"):
    services.entries_record(
        actor=tree.users["community"],
        place=checkpoint,
        items=[entry(person(decision="escort", name=name), plate=plate)],
        at=NOW,
    )
    return Occupant.objects.get(name=name)


def _issue(tree, occupant, destination, at=NOW, **kw):
    args = {
        "address": "新发地市场3号门",
        "contact_name": "李经理",
        "contact_phone": "13800138000",
        "client_id": uuid.uuid4(),
    } | kw
    return loop.loop_pass_issue(
        actor=tree.users["community"], occupant=occupant, destination=destination, at=at, **args
    )


@pytest.fixture
def receiver(tree):
    """Staff of the destination's community (the second one)."""
    return login("receiver", "community_staff", tree.communities[1])


def test_pass_issued_then_arrival_confirmed_once(tree, checkpoint, receiver):
    occupant = _escorted(tree, checkpoint)
    made = _issue(tree, occupant, tree.communities[1])
    assert len(made.code) == 6 and set(made.code) <= set(CODE_ALPHABET)
    assert made.due_at - made.issued_at == dt.timedelta(hours=4)
    client = api_client(receiver)
    seen = client.get(f"{URL}/loop-passes/{made.code.lower()}").json()
    assert (seen["plate"], seen["name"], seen["arrived_at"]) == ("冀A12345", "王**", None)

    first = client.post(f"{URL}/loop-passes/{made.code}/arrive")
    again = client.post(f"{URL}/loop-passes/{made.code}/arrive")
    assert (first.status_code, again.status_code) == (200, 200), first.content
    assert first.json()["arrived_at"] == again.json()["arrived_at"] is not None
    made.refresh_from_db()
    assert made.confirmed_by == receiver
    # Confirmed in time: nothing to escalate, ever.
    assert loop.loop_passes_escalate_due(now=NOW + dt.timedelta(hours=10)) == 0


def test_a_pass_not_confirmed_in_time_is_listed_and_escalated_once(
    tree, checkpoint, receiver, settings
):
    settings.BASTION_LOOP_CONFIRM_HOURS = 2
    late = _issue(tree, _escorted(tree, checkpoint), tree.communities[1])
    on_time = _issue(
        tree, _escorted(tree, checkpoint, "冀B22222", "张三"), tree.communities[1], at=NOW
    )
    LoopPass.objects.filter(pk=on_time.pk).update(arrived_at=NOW + dt.timedelta(hours=1))
    assert loop.loop_passes_escalate_due(now=NOW + dt.timedelta(hours=1, minutes=59)) == 0
    assert loop.loop_passes_escalate_due(now=NOW + dt.timedelta(hours=2)) == 1
    assert loop.loop_passes_escalate_due(now=NOW + dt.timedelta(hours=3)) == 0
    notice = Notification.objects.get(kind=loop.ESCALATION_KIND)
    assert late.code in notice.title and "冀A12345" in notice.title
    readers = set(Delivery.objects.filter(notification=notice).values_list("user_id", flat=True))
    assert {tree.users["community"].pk, receiver.pk} <= readers
    assert tree.users["volunteer"].pk not in readers

    web = Client()
    web.force_login(tree.users["community"])
    board = web.get(f"/checkpoints/{checkpoint.pk}/").content.decode()
    assert late.code in board and on_time.code not in board
    assert 'class="loop-overdue"' in board


def test_unknown_foreign_and_expired_codes_are_refused_naming_code(tree, checkpoint, receiver):
    made = _issue(tree, _escorted(tree, checkpoint), tree.communities[1])
    client = api_client(receiver)
    for code in ("ZZZZZZ", "!!"):
        r = client.post(f"{URL}/loop-passes/{code}/arrive")
        assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "code")
    # Staff of another community are told the same as for an unknown code.
    stranger = api_client(tree.users["other_grid"])
    assert (
        stranger.post(f"{URL}/loop-passes/{made.code}/arrive").json()["errors"][0]["field"]
        == "code"
    )
    with pytest.raises(DomainError) as refused:
        loop.loop_arrival_confirm(actor=receiver, code=made.code, at=NOW + dt.timedelta(hours=49))
    assert refused.value.problems[0].field == "code" and "expired" in str(refused.value)
    made.refresh_from_db()
    assert made.arrived_at is None


def test_bad_input_is_refused_naming_the_field_and_writes_nothing(tree, checkpoint):
    passed = _escorted(tree, checkpoint)
    Occupant.objects.filter(pk=passed.pk).update(decision="pass")
    passed.refresh_from_db()
    with pytest.raises(DomainError) as refused:
        _issue(tree, passed, tree.grids[0], contact_phone="12345", address=" ")
    fields = {p.field for p in refused.value.problems}
    assert fields == {"occupant", "contact_phone", "address"}
    with pytest.raises(DomainError) as refused:
        _issue(tree, passed, tree.street)
    assert "destination_id" in {p.field for p in refused.value.problems}
    assert not LoopPass.objects.exists()


def test_issue_through_the_api_is_idempotent_and_409_on_another_payload(tree, checkpoint):
    occupant = _escorted(tree, checkpoint)
    client = api_client(tree.users["community"])
    body = {
        "client_id": str(uuid.uuid4()),
        "destination_id": tree.communities[1].pk,
        "address": "新发地市场3号门",
        "contact_name": "李经理",
        "contact_phone": "13800138000",
    }
    url = f"{URL}/people/{occupant.pk}/loop-pass"
    first = client.post(url, body, content_type="application/json")
    retry = client.post(url, body, content_type="application/json")
    other = client.post(url, body | {"address": "别处"}, content_type="application/json")
    assert (first.status_code, retry.status_code, other.status_code) == (201, 200, 409)
    assert first.json()["code"] == retry.json()["code"]
    assert first.json()["contact_phone"] == "138****8000"
    assert LoopPass.objects.count() == 1


def test_the_destination_confirms_on_its_page(tree, checkpoint, receiver):
    made = _issue(tree, _escorted(tree, checkpoint), tree.communities[1], at=None)
    web = Client()
    web.force_login(receiver)
    page = web.get("/checkpoints/arrivals/", {"code": made.code})
    assert page.status_code == 200 and "loop-confirm" in page.content.decode()
    web.post("/checkpoints/arrivals/", {"code": made.code})
    web.post("/checkpoints/arrivals/", {"code": made.code})
    made.refresh_from_db()
    assert made.arrived_at is not None and made.confirmed_by == receiver
    unknown = web.get("/checkpoints/arrivals/", {"code": "ZZZZZZ"})
    assert unknown.status_code == 422 and "loop-problems" in unknown.content.decode()
