"""Masked numbers do not come back through search (issue 15, item 4).

Each role tries, as a script would, to recover a full ID number or mobile number by searching
its ending one guessed digit longer at a time: the resident search (API), the person search
(API) and the duty-candidate picker (a person sent down here who lives elsewhere). The masks
show the last four digits; past them a search pins digits only where the role may reveal the
number, and every such search is logged as a reveal."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from bastion.accounts.models import RevealLog
from bastion.accounts.testing import api_client
from bastion.core.privacy import SHOWN_DIGITS
from bastion.geo.models import Household, Resident
from bastion.people import services as people
from bastion.people.mobilization import services as mobilization

DIGITS = "0123456789"


def recover(found, number: str) -> str | None:
    """The number rebuilt from its last four digits (which the mask shows) by asking `found`
    (does a search for this ending list the target?) with one more guessed digit each time;
    None when a step cannot tell the right digit from the others."""
    known = number[-SHOWN_DIGITS:]
    while len(known) < len(number):
        hits = [d for d in DIGITS if found(d + known)]
        if len(hits) != 1:
            return None
        known = hits[0] + known
    return known


def _resident_found(client, resident):
    def found(text):
        rows = client.get("/api/v1/geo/residents", {"q": text, "limit": 200}).json()
        return any(r["id"] == resident.pk for r in rows)

    return found


def _person_found(client, person):
    def found(text):
        body = client.get("/api/v1/people/persons", {"q": text, "limit": 200}).json()
        return any(p["id"] == person.pk for p in body["items"])

    return found


def _picker_found(client, person):
    def found(text):
        page = client.get("/people/mobilization/persons/pick/", {"q": text})
        return f'value="{person.pk}"' in page.content.decode()

    return found


@pytest.fixture
def targets(tree):
    """A resident of the building chief's building, and a person living in the other
    community who is sent down to that building (so every role here may pick them)."""
    resident = Resident.objects.filter(building=tree.buildings[0]).order_by("pk").first()
    elsewhere = Household.objects.filter(community=tree.communities[1]).order_by("pk").first()
    person = people.person_create(
        name="外来干部", kind="cadre", phone="13912345678", home=elsewhere
    )
    today = dt.date.today()
    mobilization.dispatch_create(
        persons=[person],
        kind="sent_down",
        starts_on=today,
        ends_on=today + dt.timedelta(days=7),
        node=tree.buildings[0],
        actor=tree.users["admin"],
    )
    return resident, person


@pytest.mark.parametrize("role", ["building", "volunteer"])
def test_roles_without_reveal_recover_no_number_digit_by_digit(tree, targets, role):
    resident, person = targets
    user = tree.users[role]
    api, web = api_client(user), Client()
    web.force_login(user)
    # The target is found by the ending the mask shows ...
    assert _resident_found(api, resident)(resident.phone[-4:])
    assert _picker_found(web, person)(person.phone[-4:])

    # ... and no further.
    assert recover(_resident_found(api, resident), resident.id_number) is None
    assert recover(_resident_found(api, resident), resident.phone) is None
    assert recover(_person_found(api, person), person.phone) is None
    assert recover(_picker_found(web, person), person.phone) is None
    assert not RevealLog.objects.exists()


@pytest.mark.parametrize("role", ["grid", "community"])
def test_roles_with_reveal_recover_only_what_they_may_reveal_and_it_is_logged(tree, targets, role):
    resident, person = targets
    user = tree.users[role]
    api, web = api_client(user), Client()
    web.force_login(user)
    # A person sent down here but living outside the role's area: their reveal is refused,
    # and so is their number by search.
    assert _picker_found(web, person)(person.phone[-4:])
    assert recover(_picker_found(web, person), person.phone) is None
    assert not RevealLog.objects.exists()

    # A resident the role may reveal: the search may pin their number, and says so in the log.
    assert recover(_resident_found(api, resident), resident.id_number) == resident.id_number
    logged = RevealLog.objects.filter(
        user=user, subject_type="resident", subject_id=resident.pk, via="search"
    )
    # One search pins the number however many keystrokes it took (within a minute): logged once.
    assert logged.filter(field="id_number").count() == 1
    assert recover(_resident_found(api, resident), resident.phone) == resident.phone
    assert logged.filter(field="phone").count() == 1
    assert not RevealLog.objects.filter(subject_type="person", subject_id=person.pk).exists()


def test_a_search_within_the_last_four_digits_is_no_reveal(tree, targets):
    resident, _person = targets
    api = api_client(tree.users["grid"])
    assert _resident_found(api, resident)(resident.id_number[-4:])
    assert _resident_found(api, resident)(resident.phone[-3:])
    assert not RevealLog.objects.exists()


def test_a_document_number_pins_only_where_a_reveal_is(tree, targets):
    resident, _person = targets
    Resident.objects.filter(pk=resident.pk).update(
        doc_kind="passport", doc_number="K1234567", id_number=None
    )
    for role, listed in (("building", False), ("volunteer", False), ("grid", True)):
        rows = api_client(tree.users[role]).get("/api/v1/geo/residents", {"q": "K1234567"}).json()
        assert any(r["id"] == resident.pk for r in rows) is listed, role
    assert list(RevealLog.objects.values_list("user__username", "field", "via")) == [
        ("grid", "doc_number", "search")
    ]


def test_a_pinning_search_is_logged_once_a_minute_per_person_and_field(tree, targets):
    """An htmx search box asks at each keystroke: the same user, person and field within a
    minute is one log row; a minute later, or another user, is logged again."""
    resident, _person = targets
    grid, community = api_client(tree.users["grid"]), api_client(tree.users["community"])
    number = resident.id_number
    for text in (number[-6:], number[-7:], number[-6:], number):  # typing, deleting, pasting
        assert _resident_found(grid, resident)(text)
    logged = RevealLog.objects.filter(subject_id=resident.pk, via="search", field="id_number")
    assert list(logged.values_list("user__username", flat=True)) == ["grid"]
    assert _resident_found(community, resident)(number)
    assert logged.count() == 2
    logged.update(at=timezone.now() - dt.timedelta(seconds=61))
    assert _resident_found(grid, resident)(number)
    assert logged.filter(user=tree.users["grid"]).count() == 2
