"""The intake page's call-list picker: the rows of the call lists in the login's scope not yet
taken in are offered; picking one admits the person the row names; a row outside the scope is
neither offered nor taken."""

import re

import pytest
from django.test import Client

from bastion.accounts.services import role_assign
from bastion.geo.models import Resident
from bastion.quarantine.models import Stay
from bastion.screening.models import CallList, CallRow

pytestmark = pytest.mark.django_db


def _row(tree, community, resident, n):
    call_list = CallList(node=community, kind="close_contacts", name=f"密接名单{n}")
    call_list.locate(community)
    call_list.save()
    row = CallRow(
        call_list=call_list, row=n + 1, name=resident.name, phone=resident.phone,
        id_number=resident.id_number, status="matched", matched_by="id_number",
        resident=resident,
    )  # fmt: skip
    row.locate(resident)
    row.save()
    return row


def _offered(html: str) -> list[int]:
    picker = re.search(r'<select name="call_row_id"[^>]*>(.*?)</select>', html, re.S)
    return [int(v) for v in re.findall(r'value="(\d+)"', picker.group(1))] if picker else []


@pytest.fixture
def rows(tree):
    """A row in the first community (the staff's) and one in the second."""
    mine = Resident.objects.filter(grid=tree.grids[0]).order_by("pk").first()
    other = Resident.objects.filter(grid=tree.grids[2]).order_by("pk").first()
    return _row(tree, tree.communities[0], mine, 1), _row(tree, tree.communities[1], other, 2)


def test_a_call_list_row_is_picked_and_admitted(tree, site, rooms, staff, rows):
    role_assign(user=staff, role="community_staff", node=tree.communities[0])
    mine, other = rows
    chief = Client()
    chief.force_login(staff)
    page = chief.get(f"/quarantine/{site.pk}/intake/").content.decode()
    assert _offered(page) == [mine.pk] and "密接名单1 #2" in page
    assert "密接名单2" not in page
    assert mine.name not in page  # masked
    found = chief.get(f"/quarantine/{site.pk}/intake/", {"q": mine.id_number[-4:]})
    assert _offered(found.content.decode()) == [mine.pk]
    nothing = chief.get(f"/quarantine/{site.pk}/intake/", {"q": other.id_number[-4:]})
    assert _offered(nothing.content.decode()) == []
    # a row outside the scope, posted by hand, is refused naming the row; nothing written
    refused = chief.post(
        f"/quarantine/{site.pk}/intake/",
        {"source": "call_list", "call_row_id": other.pk, "room_id": rooms[0].pk},
        follow=True,
    ).content.decode()
    assert "This row is not on a call list" in refused or "不在您可收治的排查名单上" in refused
    assert not Stay.objects.exists()
    chief.post(
        f"/quarantine/{site.pk}/intake/",
        {"source": "call_list", "call_row_id": mine.pk, "room_id": rooms[0].pk},
    )
    stay = Stay.objects.get()
    assert (stay.source, stay.call_row, stay.name, stay.doc_number) == (
        "call_list", mine, mine.resident.name, mine.resident.id_number,
    )  # fmt: skip
    assert stay.resident == mine.resident
    # taken in: no longer offered
    again = chief.get(f"/quarantine/{site.pk}/intake/").content.decode()
    assert _offered(again) == []
