"""The single scan's lean path: the station read with its shifts in one statement (and read
again when a scan falls outside them), device times without an offset, the token login
bringing the caller's grants, and the answers built without ninja's validation still
matching their schema."""

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from bastion.testing.conftest import scan
from bastion.testing.rounds import services as round_services
from bastion.testing.rounds.models import Shift
from bastion.testing.rounds.tests.test_api import bearer, post, scan_body
from bastion.testing.scans import batch
from bastion.testing.scans import shifts as scan_shifts
from bastion.testing.scans.api import BatchOut, ScanOut
from bastion.testing.scans.models import Scan, Tube
from bastion.testing.scans.services import scans_record


def _reopened(testing):
    """Station 0 open 50 to 10 minutes ago, closed, then open again from now."""
    station = testing.stations[0]
    earlier = timezone.now() - dt.timedelta(minutes=50)
    Shift.objects.filter(station=station).update(opened_at=earlier)
    round_services.station_close(actor=testing.admin, station=station)
    Shift.objects.filter(station=station).update(closed_at=earlier + dt.timedelta(minutes=40))
    round_services.station_open(actor=testing.admin, station=station, round=testing.round)
    return station


def test_a_station_read_for_scans_holds_the_shifts_around_them(testing):
    station = _reopened(testing)
    read = scan_shifts.station_for_scans(station.pk, [None])
    start, end, shifts = read._shifts_read
    assert start < timezone.now() < end
    assert [s.closed_at for s in shifts] == [None]  # only the shift open now
    assert shifts[0].round.node == testing.round.node
    assert scan_shifts.station_for_scans(999_999_999, [None]) is None


def test_a_scan_outside_the_shifts_read_with_the_station_finds_its_own(testing):
    station = _reopened(testing)
    people = testing.residents_of(testing.tree.grids[0])
    read = scan_shifts.station_for_scans(station.pk, [None])  # shifts around now only
    queued = timezone.now() - dt.timedelta(minutes=30)  # scanned offline in the first shift

    (outcome,) = scans_record(
        actor=None,
        station=read,
        items=[batch.ScanInput(uuid.uuid4(), "T-0001", people[0].id_number, at=queued)],
    )

    assert outcome.status == "accepted", outcome.message
    assert Scan.objects.get(pk=outcome.scan_id).at == queued


def test_a_batch_over_two_shifts_goes_in_through_the_api(testing):
    station = _reopened(testing)
    people = testing.residents_of(testing.tree.grids[0])
    client = bearer(testing.tree.users["street"])
    queued = timezone.now() - dt.timedelta(minutes=30)
    body = {
        "scans": [
            scan_body("T-0001", people[0].id_number, at=queued.isoformat()),
            scan_body("T-0001", people[1].id_number),
        ]
    }
    answer = post(client, f"/stations/{station.pk}/scans/batch", body)
    assert answer.status_code == 200
    assert [r["status"] for r in answer.json()["results"]] == ["accepted", "accepted"]
    BatchOut.model_validate(answer.json())  # the unvalidated answer matches its schema


def test_a_device_time_without_an_offset_is_local_time(testing):
    people = testing.residents_of(testing.tree.grids[0])
    client = bearer(testing.tree.users["street"])
    local = timezone.localtime() - dt.timedelta(minutes=5)
    naive = local.replace(tzinfo=None, microsecond=0)

    answer = post(
        client,
        f"/stations/{testing.stations[0].pk}/scans",
        scan_body("T-0001", people[0].id_number, at=naive.isoformat()),
    )

    assert answer.status_code == 201, answer.content
    ScanOut.model_validate(answer.json())
    assert Scan.objects.get().at == local.replace(microsecond=0)
    # The rule lives in the scan itself, whoever makes one.
    made = batch.ScanInput(uuid.uuid4(), "T-0002", people[1].id_number, at=naive)
    assert made.at == local.replace(microsecond=0)


@pytest.mark.parametrize(
    ("model", "column"),
    [
        (Scan, "resident_id"),
        (Scan, "walk_in_id"),
        (Scan, "tube_id"),
        (Scan, "round_id"),
        (Scan, "station_id"),
        (Tube, "household_id"),
    ],
)
def test_the_database_refuses_a_scan_or_tube_pointing_at_nothing(testing, model, column):
    """The hot tables' references live in the database too, not only in the services."""
    person = testing.residents_of(testing.tree.grids[0])[0]
    outcome = scan(testing.stations[0], "T-0001", person.id_number)
    row = Scan.objects.get(pk=outcome.scan_id) if model is Scan else Tube.objects.get()
    bent = {column: 999_999_999}
    if column == "walk_in_id":  # a walk-in's scan names no resident
        bent.update(kind="walk_in", resident_id=None)
    if column == "household_id":  # only a household tube names one
        bent.update(kind="household")
    saved = {name: getattr(row, name) for name in bent}
    model.objects.filter(pk=row.pk).update(**bent)
    with pytest.raises(IntegrityError, match=column), transaction.atomic():
        connection.check_constraints(table_names=[model._meta.db_table])
    model.objects.filter(pk=row.pk).update(**saved)  # the test's own end checks them again


def test_a_scan_id_reused_for_another_person_is_409_and_written_once(testing):
    people = testing.residents_of(testing.tree.grids[0])
    client = bearer(testing.tree.users["street"])
    url = f"/stations/{testing.stations[0].pk}/scans"
    first = scan_body("T-0001", people[0].id_number)
    assert post(client, url, first).status_code == 201
    assert post(client, url, first).status_code == 200
    other = post(client, url, first | {"code": people[1].id_number})
    assert other.status_code == 409, other.content
    assert [e["field"] for e in other.json()["errors"]] == ["client_id"]
    assert list(Scan.objects.values_list("resident_id", flat=True)) == [people[0].pk]
