"""Two staff assigning the same room at once: one wins, the other is told the room is full,
never both. Each writer is a thread with its own connection, released together by a barrier,
over ten single rooms and a double contested by three.

Only meaningful on PostgreSQL (row locks): SQLite serialises writers, so there is no race to
test. `make test` runs it in its PostgreSQL pass (`scripts/with-postgres`)."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from bastion.accounts.testing import build_small_tree
from bastion.core.errors import DomainError
from bastion.geo.identity import make_id_number
from bastion.people.mobilization import services as mobilization
from bastion.quarantine import services
from bastion.quarantine.models import Room, Stay

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers race only on PostgreSQL (SQLite serialises writers); "
    "run with scripts/with-postgres",
)


def _admit(actor, site, room_id, seq, start, won, refused, errors):
    try:
        start.wait()
        services.stay_admit(
            actor=actor,
            place=site,
            room_id=room_id,
            source="returnee",
            person=services.PersonInput(
                f"旅客{seq}", "id_card", make_id_number("110105", dt.date(1980, 1, 1), seq)
            ),
            travel_no="CA1234",
            arrival_at=timezone.now() - dt.timedelta(hours=1),
        )
        won.append((room_id, seq))
    except DomainError as error:
        refused.append((room_id, [(p.field, p.message) for p in error.problems]))
    except Exception as error:  # reported to the main thread
        errors.append(error)
    finally:
        connection.close()


def _race(actor, site, room_id: int, writers: int, first_seq: int):
    start = threading.Barrier(writers)
    won, refused, errors = [], [], []
    threads = [
        threading.Thread(
            target=_admit, args=(actor, site, room_id, first_seq + i, start, won, refused, errors)
        )
        for i in range(writers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return won, refused


@pytest.mark.django_db(transaction=True)
def test_two_staff_one_room_one_wins_the_other_is_told_why():
    tree = build_small_tree()
    admin = tree.users["admin"]
    site = mobilization.place_create(node=tree.grids[0], name="竞争酒店", kind="quarantine_site")
    rooms = services.rooms_create(
        actor=admin,
        place=site,
        rooms=[services.RoomInput("A", 1, f"1{n:02d}") for n in range(10)]
        + [services.RoomInput("B", 2, "201", 2)],
    )
    for index, room in enumerate(rooms[:10]):
        won, refused = _race(admin, site, room.pk, 2, 100 + index * 2)
        assert len(won) == 1, (room, won, refused)
        [(_room, problems)] = refused
        assert [field for field, _m in problems] == ["room_id"]
        assert "full" in problems[0][1] or "已满" in problems[0][1]
    double = rooms[10]
    won, refused = _race(admin, site, double.pk, 3, 500)
    assert (len(won), len(refused)) == (2, 1)
    assert {r.pk: r.occupants for r in Room.objects.filter(place=site)} == {
        r.pk: (2 if r.pk == double.pk else 1) for r in rooms
    }
    assert Stay.objects.filter(place=site).count() == 12
