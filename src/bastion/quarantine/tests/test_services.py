"""The site's rules: rooms all or nothing, the intake into a room (a full room refused), the
checks (34–43 °C, not after release, once a half-day), the release (early only with a reason)
and the hand-over home, the transfer out; each refusal names its field and writes nothing."""

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from bastion.core.errors import DomainError
from bastion.quarantine import queries, services
from bastion.quarantine.models import HealthCheck, Room, RoomState, Stay, StayState
from bastion.quarantine.services import PersonInput
from bastion.quarantine.tests.conftest import ID_2, NOW, admit

pytestmark = pytest.mark.django_db


def _field(error: DomainError) -> set[str]:
    return {p.field for p in error.problems}


def test_a_hotel_from_a_pattern(tree, site, staff):
    rooms = services.rooms_pattern(buildings=["A", "B"], floors=(2, 7), per_floor=10)
    services.rooms_create(actor=staff, place=site, rooms=rooms)
    assert Room.objects.filter(place=site).count() == 120
    assert set(
        Room.objects.filter(place=site, floor=3, block="B").values_list("number", flat=True)
    ) == {f"3{n:02d}" for n in range(1, 11)}
    assert Room.objects.get(place=site, block="A", number="701").grid_id == tree.grids[0].pk


def test_rooms_from_a_sheet_all_or_nothing(site, staff):
    book = Workbook()
    sheet = book.active
    sheet.append(["楼栋", "楼层", "房间号", "床位"])
    sheet.append(["A", 1, "101", 1])
    sheet.append(["A", "一", "102", 1])  # a floor that is no number
    sheet.append(["A", 1, "101", 9])  # twice, and 9 beds
    out = io.BytesIO()
    book.save(out)
    rooms = services.rooms_from_sheet(filename="rooms.xlsx", content=out.getvalue())
    with pytest.raises(DomainError) as refused:
        services.rooms_create(actor=staff, place=site, rooms=rooms)
    problems = {(p.row, p.field) for p in refused.value.problems}
    assert problems == {(3, "floor"), (4, "number"), (4, "capacity")}
    assert not Room.objects.filter(place=site).exists()


def test_intake_takes_a_bed_and_a_full_room_is_refused(tree, site, rooms, staff):
    stay = admit(staff, site, rooms[0])
    room = Room.objects.get(pk=rooms[0].pk)
    assert (room.occupants, room.state) == (1, RoomState.OCCUPIED)
    assert stay.planned_end == dt.date(2026, 12, 21)  # 14 days
    with pytest.raises(DomainError) as refused:
        admit(staff, site, rooms[0], person=PersonInput("李四", "id_card", ID_2))
    assert _field(refused.value) == {"room_id"}
    assert "full" in str(refused.value)
    assert Stay.objects.count() == 1
    assert Room.objects.get(pk=rooms[0].pk).occupants == 1


def test_the_database_keeps_a_room_within_its_beds(rooms):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.filter(pk=rooms[0].pk).update(occupants=2, state="occupied")


def test_a_person_is_in_one_stay_at_a_time(site, rooms, staff):
    admit(staff, site, rooms[0])
    with pytest.raises(DomainError) as refused:
        admit(staff, site, rooms[1])
    assert _field(refused.value) == {"doc_number"}
    assert Room.objects.get(pk=rooms[1].pk).occupants == 0


def test_a_returnee_brings_the_flight_or_train(site, rooms, staff):
    with pytest.raises(DomainError) as refused:
        admit(staff, site, rooms[0], travel_no="", arrival_at=None)
    assert _field(refused.value) == {"travel_no", "arrival_at"}
    assert not Stay.objects.exists()
    assert Room.objects.get(pk=rooms[0].pk).occupants == 0


def test_the_site_terms_set_the_planned_end(site, rooms, staff):
    services.site_set(actor=staff, place=site, stay_days=7, home_days=7)
    assert admit(staff, site, rooms[0]).planned_end == dt.date(2026, 12, 14)


@pytest.mark.parametrize("reading", ["33.9", "43.1", "hot"])
def test_a_temperature_outside_34_43_is_refused(site, rooms, staff, reading):
    stay = admit(staff, site, rooms[0])
    with pytest.raises(DomainError) as refused:
        services.check_record(actor=staff, stay=stay, temperature=reading, at=NOW)
    assert _field(refused.value) == {"temperature"}
    assert not HealthCheck.objects.exists()


def test_the_database_refuses_a_temperature_outside_34_43(site, rooms, staff):
    from django.db import IntegrityError, transaction

    stay = admit(staff, site, rooms[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        HealthCheck.objects.create(
            stay=stay, day=NOW.date(), half="am", temperature="45.0", checked_at=NOW
        )


def test_checks_twice_a_day_and_who_is_still_due(site, rooms, staff):
    one = admit(staff, site, rooms[0])
    two = admit(staff, site, rooms[1], person=PersonInput("李四", "id_card", ID_2))
    day = NOW.date()
    assert list(queries.due_checks(site, day, "am")) == [one, two]
    check = services.check_record(actor=staff, stay=one, temperature="37.5", at=NOW)
    assert (check.half, check.abnormal) == ("am", True)
    services.check_record(actor=staff, stay=two, temperature="36.4", symptoms=["cough"], at=NOW)
    assert list(queries.due_checks(site, day, "am")) == []
    assert list(queries.due_checks(site, day, "pm")) == [one, two]
    with pytest.raises(DomainError) as twice:
        services.check_record(actor=staff, stay=one, temperature="36.5", at=NOW)
    assert _field(twice.value) == {"half"}
    assert HealthCheck.objects.get(stay=two).symptoms == "cough"


def test_a_check_after_release_is_refused(site, rooms, staff):
    stay = admit(staff, site, rooms[0])
    services.stay_release(actor=staff, stay=stay, reason="核酸阴性，提前解除", at=NOW)
    with pytest.raises(DomainError) as refused:
        services.check_record(actor=staff, stay=stay, temperature="36.5", at=NOW)
    assert _field(refused.value) == {"stay_id"}
    assert not HealthCheck.objects.exists()


def test_an_early_release_needs_a_reason(site, rooms, staff):
    stay = admit(staff, site, rooms[0])
    with pytest.raises(DomainError) as refused:
        services.stay_release(actor=staff, stay=stay, at=NOW + dt.timedelta(days=13))
    assert _field(refused.value) == {"reason"}
    stay.refresh_from_db()
    assert stay.state == StayState.IN
    assert Room.objects.get(pk=rooms[0].pk).occupants == 1


def test_release_at_the_end_frees_the_room_for_disinfection(tree, site, rooms, staff):
    stay = admit(staff, site, rooms[0], home_node=tree.grids[1])
    end = NOW + dt.timedelta(days=14)
    assert list(queries.releases_due(site, end.date())) == [stay]
    services.stay_release(actor=staff, stay=stay, at=end)
    room = Room.objects.get(pk=rooms[0].pk)
    assert (room.occupants, room.state) == (0, RoomState.TO_DISINFECT)
    with pytest.raises(DomainError):
        admit(staff, site, room, person=PersonInput("李四", "id_card", ID_2))
    services.room_disinfected(actor=staff, room=room)
    assert Room.objects.get(pk=room.pk).state == RoomState.READY
    stay = services.stay_hand_over(actor=staff, stay=stay, at=end)
    assert (stay.home_grid_id, stay.handed_over_at) == (tree.grids[1].pk, end)


def test_a_transfer_out_frees_the_bed(site, rooms, staff):
    stay = admit(staff, site, rooms[2])
    with pytest.raises(DomainError) as refused:
        services.stay_transfer(actor=staff, stay=stay, to="", at=NOW)
    assert _field(refused.value) == {"to"}
    services.stay_transfer(
        actor=staff, stay=stay, to="市传染病医院", vehicle="京A12345", escort="刘医生", at=NOW
    )
    stay.refresh_from_db()
    assert stay.state == StayState.TRANSFERRED
    assert Room.objects.get(pk=rooms[2].pk).occupants == 0


def test_an_incident_says_what_was_done(site, rooms, staff):
    stay = admit(staff, site, rooms[0])
    with pytest.raises(DomainError) as refused:
        services.incident_record(
            actor=staff, stay=stay, kind="leaving", what="擅自离开房间", done=""
        )
    assert _field(refused.value) == {"done"}
    incident = services.incident_record(
        actor=staff,
        stay=stay,
        kind="leaving",
        what="擅自离开房间",
        done="劝返房间，加强巡查",
        at=NOW,
    )
    assert incident.stay == stay


def test_the_daily_figures(tree, site, rooms, staff):
    one = admit(staff, site, rooms[0])
    two = admit(
        staff,
        site,
        rooms[1],
        person=PersonInput("李四", "id_card", ID_2),
        at=NOW - dt.timedelta(days=1),
        arrival_at=NOW - dt.timedelta(days=1, hours=2),
    )
    services.stay_release(actor=staff, stay=two, reason="转居家", at=NOW)
    assert one
    assert queries.daily_figures(NOW.date(), [tree.grids[0].pk]) == {
        tree.grids[0].pk: {
            "quarantine_now": 1,
            "quarantine_admitted": 1,
            "quarantine_released": 1,
            "quarantine_transferred": 0,
        }
    }
    yesterday = queries.daily_figures(NOW.date() - dt.timedelta(days=1), [tree.grids[0].pk])
    assert yesterday[tree.grids[0].pk]["quarantine_now"] == 1


def test_a_transfer_out_is_planned_in_incidents_and_departs(site, rooms, staff):
    from bastion.incidents.transfers.models import Transfer

    stay = admit(staff, site, rooms[0])
    with pytest.raises(DomainError) as refused:
        services.stay_transfer(actor=staff, stay=stay, to="市传染病医院", vehicle="京12345")
    assert _field(refused.value) == {"vehicle"}
    assert not Transfer.objects.exists()
    services.stay_transfer(actor=staff, stay=stay, to="市传染病医院", vehicle="京A12345")
    stay.refresh_from_db()
    out = Transfer.objects.get()
    assert stay.transfer_out == out
    assert (out.source, out.source_id, out.from_place_id, out.to_hospital, out.state) == (
        "quarantine",
        stay.pk,
        site.pk,
        "市传染病医院",
        "on_the_way",
    )
    assert (out.name, out.doc_number) == ("王建国", stay.doc_number)


def test_intake_from_a_transfer_on_its_way(tree, site, rooms, staff):
    from bastion.geo.models import Resident
    from bastion.incidents.transfers.services import transfer_depart, transfer_plan

    resident = Resident.objects.filter(grid=tree.grids[2]).order_by("pk").first()
    transfer = transfer_plan(
        actor=tree.users["street"], resident=resident, destination="quarantine",
        to_place=site, reason="close_contact",
    )  # fmt: skip
    with pytest.raises(DomainError) as planned:  # not on its way yet
        services.stay_admit(
            actor=staff, place=site, room_id=rooms[0].pk, source="positive", transfer=transfer
        )
    assert _field(planned.value) == {"transfer_id"}
    transfer_depart(actor=tree.users["street"], transfer=transfer, plate="京A12345")
    assert list(queries.transfers_arriving(site)) == [transfer]
    stay = services.stay_admit(
        actor=staff, place=site, room_id=rooms[0].pk, source="positive", transfer=transfer
    )
    transfer.refresh_from_db()
    assert (stay.name, stay.resident, stay.home_grid_id) == (
        resident.name,
        resident,
        tree.grids[2].pk,
    )
    assert transfer.state == "arrived"
    assert list(queries.transfers_arriving(site)) == []
