"""The API as a phone uses it: a batch of entries with one bad item, a plate's usual people,
the board; a gate's batch with a sealed unit's resident; volunteers may not write; another
community's places are not found."""

import uuid

from bastion.accounts.testing import api_client
from bastion.checkpoints.models import Entry, Passage
from bastion.geo.models import Resident
from bastion.incidents.services import control_set

URL = "/api/v1/checkpoints"


def _occupant(**kw):
    return {
        "name": "王建国",
        "doc_kind": "id_card",
        "doc_number": "11010519491231002X",
        "phone": "13912345678",
        "health_code": "green",
        "temperature": 36.5,
        "decision": "pass",
        "driver": True,
    } | kw


def _entry(**kw):
    return {
        "client_id": str(uuid.uuid4()),
        "kind": "truck",
        "plate": "冀A·12345",
        "cargo": "蔬菜",
        "occupants": [_occupant()],
    } | kw


def test_entry_batch_plate_and_board(tree, checkpoint):
    client = api_client(tree.users["community"])
    bad = _entry(occupants=[_occupant(temperature=44)])
    body = {"entries": [_entry(), bad]}
    r = client.post(
        f"{URL}/places/{checkpoint.pk}/entries/batch", body, content_type="application/json"
    )
    assert r.status_code == 200, r.content
    data = r.json()
    assert (data["accepted"], data["refused"]) == (1, 1)
    assert data["results"][1]["errors"][0]["field"] == "occupants[0].temperature"
    assert data["results"][1]["errors"][0]["row"] == 1
    again = client.post(
        f"{URL}/places/{checkpoint.pk}/entries/batch", body, content_type="application/json"
    )
    assert again.json()["replayed"] == 1 and Entry.objects.count() == 1

    r = client.get(f"{URL}/places/{checkpoint.pk}/plates/冀A12345")
    assert r.status_code == 200
    assert r.json()["occupants"][0]["phone"] == "139****5678"
    assert client.get(f"{URL}/places/{checkpoint.pk}/plates/京A99999").status_code == 404

    board = client.get(f"{URL}/places/{checkpoint.pk}/board").json()
    assert len(board["hours"]) == 24
    assert sum(h["people"] for h in board["hours"]) == 1
    assert board["days"][0]["vehicles"] == 1


def test_volunteer_and_other_scope(tree, checkpoint):
    body = {"entries": [_entry()]}
    volunteer = api_client(tree.users["volunteer"])
    r = volunteer.post(
        f"{URL}/places/{checkpoint.pk}/entries/batch", body, content_type="application/json"
    )
    assert r.status_code == 403
    other = api_client(tree.users["other_grid"])
    r = other.post(
        f"{URL}/places/{checkpoint.pk}/entries/batch", body, content_type="application/json"
    )
    assert r.status_code == 404
    assert not Entry.objects.exists()


def test_gate_batch_and_people(tree, gate):
    client = api_client(tree.users["community"])
    control_set(actor=tree.users["admin"], node=tree.units[0], level="sealed", reason="阳性")
    resident = Resident.objects.filter(unit=tree.units[0]).order_by("pk").first()
    found = client.get(f"{URL}/gates/{gate.pk}/people", {"q": resident.id_number[-4:]}).json()
    assert resident.pk in [f["resident_id"] for f in found]
    body = {
        "passages": [
            {"client_id": str(uuid.uuid4()), "direction": "out", "resident_id": resident.pk}
        ]
    }
    r = client.post(f"{URL}/gates/{gate.pk}/passages/batch", body, content_type="application/json")
    assert r.status_code == 200, r.content
    assert "sealed" in r.json()["results"][0]["message"]
    assert Passage.objects.get().refused
    hours = client.get(f"{URL}/gates/{gate.pk}/hours").json()
    assert sum(h["turned_back"] for h in hours) == 1
