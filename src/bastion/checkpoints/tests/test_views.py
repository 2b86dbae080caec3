"""The pages: the list, a checkpoint's board (hand-overs masked), the entry page (a crew
that may change; a volunteer may not), a gate's page finding a resident by the last ID digits
and letting them out, a sealed unit's resident turned back with the reason shown."""

import re

from django.test import Client

from bastion.checkpoints import services
from bastion.checkpoints.models import Passage
from bastion.checkpoints.tests.conftest import entry, person
from bastion.geo.models import Resident
from bastion.incidents.services import control_set


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_board_masks_the_handed_over(tree, checkpoint):
    services.entries_record(
        actor=tree.users["community"],
        place=checkpoint,
        items=[entry(person(decision="quarantine", health_code="red"), arrived_at=None)],
    )
    page = _client(tree.users["community"]).get(f"/checkpoints/{checkpoint.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "王**" in html and "1101**********002X" in html and "139****5678" in html
    assert "王建国" not in html and "11010519491231002X" not in html and "13912345678" not in html
    assert _client(tree.users["community"]).get("/checkpoints/").status_code == 200


def test_entry_page_for_the_crew_only(tree, checkpoint):
    assert (
        _client(tree.users["community"]).get(f"/checkpoints/{checkpoint.pk}/entry/").status_code
        == 200
    )
    assert (
        _client(tree.users["volunteer"]).get(f"/checkpoints/{checkpoint.pk}/entry/").status_code
        == 403
    )
    assert (
        _client(tree.users["other_grid"]).get(f"/checkpoints/{checkpoint.pk}/entry/").status_code
        == 404
    )


def test_gate_finds_and_turns_back_a_sealed_units_resident(tree, gate):
    control_set(actor=tree.users["admin"], node=tree.units[0], level="sealed", reason="阳性")
    resident = Resident.objects.filter(unit=tree.units[0]).order_by("pk").first()
    client = _client(tree.users["community"])
    page = client.get(f"/checkpoints/gates/{gate.pk}/", {"q": resident.id_number[-4:]})
    assert f'name="resident_id" value="{resident.pk}"' in page.content.decode()
    answer = client.post(
        f"/checkpoints/gates/{gate.pk}/pass/",
        {"resident_id": resident.pk, "direction": "out"},
        follow=True,
    )
    text = re.sub(r"\s+", " ", answer.content.decode())
    assert "The resident&#x27;s unit is sealed" in text or "单元已封控" in text
    assert Passage.objects.get().refused


def test_a_handed_over_persons_phone_revealed_and_logged(tree, checkpoint):
    from bastion.accounts.models import RevealLog
    from bastion.checkpoints.models import Occupant

    services.entries_record(
        actor=tree.users["community"],
        place=checkpoint,
        items=[entry(person(decision="quarantine", health_code="red"), arrived_at=None)],
    )
    occupant = Occupant.objects.get()
    url = f"/checkpoints/people/{occupant.pk}/reveal/phone/"
    page = _client(tree.users["community"]).get(f"/checkpoints/{checkpoint.pk}/")
    assert url in page.content.decode()
    answer = _client(tree.users["community"]).post(url)
    assert answer.status_code == 200 and "13912345678" in answer.content.decode()
    logged = RevealLog.objects.get()
    assert (logged.subject_type, logged.subject_id, logged.field) == (
        "occupant",
        occupant.pk,
        "phone",
    )
    assert _client(tree.users["other_grid"]).post(url).status_code == 404
    assert _client(tree.users["volunteer"]).post(url).status_code == 403
    assert RevealLog.objects.count() == 1
