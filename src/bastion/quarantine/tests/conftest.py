"""A quarantine hotel on the first grid of the small known tree (`accounts.testing`), with a
point chief who logs in (the site's staff), and helpers to admit people."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from bastion.people import services as people_services
from bastion.people.mobilization import services as mobilization
from bastion.quarantine import services
from bastion.quarantine.services import PersonInput, RoomInput

NOW = timezone.make_aware(dt.datetime(2026, 12, 7, 9, 30))
ID_1 = "11010519491231002X"
ID_2 = "110105198503120178"


@pytest.fixture
def staff(tree):
    """The site's point chief, with a login and no role anywhere."""
    user = User.objects.create_user("site_chief", password="x")
    person = people_services.person_create(
        name="周站长", kind="medic", phone="13700000001", node=tree.grids[0]
    )
    person.user = user
    person.save(update_fields=["user"])
    return user


@pytest.fixture
def site(tree, staff):
    from bastion.people.models import Person

    return mobilization.place_create(
        node=tree.grids[0],
        name="如家隔离酒店",
        kind="quarantine_site",
        opened_on=dt.date(2026, 11, 1),
        chief=Person.objects.get(user=staff),
        actor=tree.users["admin"],
    )


@pytest.fixture
def rooms(tree, site, staff):
    """Two single rooms and a double: A-101, A-102, A-103 (2 beds)."""
    return services.rooms_create(
        actor=staff,
        place=site,
        rooms=[RoomInput("A", 1, "101"), RoomInput("A", 1, "102"), RoomInput("A", 1, "103", 2)],
    )


def admit(actor, site, room, **kw):
    args = {
        "actor": actor,
        "place": site,
        "room_id": room.pk,
        "source": "returnee",
        "person": PersonInput("王建国", "id_card", ID_1, "13912345678"),
        "travel_no": "CA1234",
        "arrival_at": NOW - dt.timedelta(hours=3),
        "at": NOW,
    }
    return services.stay_admit(**(args | kw))
