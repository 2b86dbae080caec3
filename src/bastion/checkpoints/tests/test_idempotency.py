"""Device writes retried: the same item again replays; the same client id with a different
item is refused naming `client_id` and writes nothing (through the API, as the phone sends
it, and inside one batch); the gate's web form carries a client id made with the page, so a
double tap writes one passage."""

import re
import uuid

from django.test import Client

from bastion.accounts.testing import api_client
from bastion.checkpoints.models import Entry, Occupant, Passage
from bastion.checkpoints.tests.test_api import URL, _entry, _occupant
from bastion.core.models import ClientKey
from bastion.geo.models import Resident


def _post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_entry_client_id_reused_for_another_vehicle_is_refused(tree, checkpoint):
    client = api_client(tree.users["community"])
    url = f"{URL}/places/{checkpoint.pk}/entries/batch"
    first = _entry()
    assert _post(client, url, {"entries": [first]}).json()["accepted"] == 1
    stored = Entry.objects.get()
    same = _post(client, url, {"entries": [first]}).json()["results"][0]
    assert (same["status"], same["id"]) == ("replayed", stored.pk)

    other = first | {"plate": "京B54321", "occupants": [_occupant(name="李四")]}
    answer = _post(client, url, {"entries": [other, _entry(plate="晋A11111")]}).json()
    reused, fresh = answer["results"]
    assert reused["status"] == "refused" and reused["id"] is None
    assert [e["field"] for e in reused["errors"]] == ["client_id"]
    assert "different request" in reused["errors"][0]["message"]
    assert fresh["status"] == "accepted"
    assert sorted(Entry.objects.values_list("plate", flat=True)) == ["冀A12345", "晋A11111"]
    assert not Occupant.objects.filter(name="李四").exists()


def test_a_client_id_twice_in_one_batch_with_different_people(tree, checkpoint):
    client = api_client(tree.users["community"])
    url = f"{URL}/places/{checkpoint.pk}/entries/batch"
    first = _entry()
    copy = dict(first)
    changed = first | {"occupants": [_occupant(temperature=37.0)]}
    results = _post(client, url, {"entries": [first, copy, changed]}).json()["results"]
    assert [r["status"] for r in results] == ["accepted", "replayed", "refused"]
    assert results[1]["id"] == results[0]["id"]
    assert results[2]["errors"][0]["field"] == "client_id"
    assert Entry.objects.count() == 1


def test_gate_passage_client_id_reused_for_another_person(tree, gate):
    client = api_client(tree.users["community"])
    url = f"{URL}/gates/{gate.pk}/passages/batch"
    a, b = Resident.objects.filter(community=tree.communities[0]).order_by("pk")[:2]
    key = str(uuid.uuid4())
    item = {"client_id": key, "direction": "in", "resident_id": a.pk}
    assert _post(client, url, {"passages": [item]}).json()["accepted"] == 1
    assert _post(client, url, {"passages": [item]}).json()["replayed"] == 1
    other = _post(client, url, {"passages": [item | {"resident_id": b.pk}]}).json()
    assert other["refused"] == 1
    assert other["results"][0]["errors"][0]["field"] == "client_id"
    out = _post(client, url, {"passages": [item | {"direction": "out"}]}).json()
    assert out["refused"] == 1
    assert list(Passage.objects.values_list("resident_id", "direction")) == [(a.pk, "in")]
    assert ClientKey.objects.filter(model="checkpoints.passage").count() == 1


def test_gate_form_double_tap_writes_once(tree, gate):
    """The page's form holds a client id made with the page: the same form posted twice (a
    double tap, a resend) is one passage; the next page has a new id."""
    web = Client()
    web.force_login(tree.users["community"])
    r = Resident.objects.filter(community=tree.communities[0]).order_by("pk").first()
    page = web.get(f"/checkpoints/gates/{gate.pk}/", {"q": r.name}).content.decode()
    forms = re.findall(
        r'name="resident_id" value="(\d+)"><input type="hidden" name="client_id"'
        r' value="([0-9a-f-]*)"',
        page,
    )
    ids = dict(forms)
    assert ids.get(str(r.pk)), forms  # a client id in the form
    assert len(set(ids.values())) == len(ids)  # one per person found
    form = {"resident_id": r.pk, "client_id": ids[str(r.pk)], "direction": "in"}
    web.post(f"/checkpoints/gates/{gate.pk}/pass/", form)
    web.post(f"/checkpoints/gates/{gate.pk}/pass/", form)
    assert Passage.objects.count() == 1

    visitor = web.get(f"/checkpoints/gates/{gate.pk}/").content.decode()
    key = re.search(r'class="cp-form">.*?name="client_id" value="([0-9a-f-]*)"', visitor, re.S)
    assert key and key.group(1)
    form = {
        "client_id": key.group(1),
        "visitor_name": "快递员",
        "purpose": "送货",
        "direction": "in",
    }
    web.post(f"/checkpoints/gates/{gate.pk}/pass/", form)
    web.post(f"/checkpoints/gates/{gate.pk}/pass/", form)
    assert Passage.objects.filter(visitor_name="快递员").count() == 1
