"""One poison item never fails a batch: a time no clock shows, a NUL character the database
cannot store; each is refused with its reason and the rest of the batch is stored."""

import datetime as dt
import uuid

import pytest
from django.db import DataError

from bastion.geo.identity import make_id_number
from bastion.testing.rounds.tests.test_api import bearer, post, scan_body
from bastion.testing.scans import batch as scan_batch
from bastion.testing.scans.codes import family_code
from bastion.testing.scans.models import Scan, Tube, WalkIn
from bastion.testing.scans.services import scans_record

STRANGER = make_id_number("110101", dt.date(1980, 5, 17), 123)  # valid, lives nowhere here


@pytest.mark.parametrize(
    ("poison", "field"),
    [
        ({"at": "0001-01-01T00:00:00Z"}, "at"),
        ({"at": "9999-12-31T23:59:59+08:00"}, "at"),
        ({"at": "1900-01-01T08:00:00+08:00"}, "at"),
        ({"walk_in": True, "name": "过路\x00司机", "code": STRANGER}, "name"),
        ({"walk_in": True, "phone": "139\x0012345678", "code": STRANGER}, "phone"),
        ({"tube": "T-00\x0009"}, "tube"),
        ({"code": "1101\x00"}, "code"),
    ],
)
def test_a_poison_item_is_refused_with_its_reason_and_the_rest_stored(testing, poison, field):
    people = testing.residents_of(testing.tree.grids[0])
    client = bearer(testing.tree.users["street"])
    bad = scan_body("T-0002", people[1].id_number)
    bad.update(poison)
    body = {
        "scans": [
            scan_body("T-0001", people[0].id_number),
            bad,
            scan_body("T-0001", people[2].id_number),
        ]
    }

    answer = post(client, f"/stations/{testing.stations[0].pk}/scans/batch", body)

    assert answer.status_code == 200, answer.content
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "refused", "accepted"]
    assert results[1]["field"] == field
    assert results[1]["reason"] in ("bad_time", "bad_text")
    assert results[1]["message"]
    assert set(Scan.objects.values_list("resident_id", flat=True)) == {people[0].pk, people[2].pk}
    assert not WalkIn.objects.exists()


def test_a_batch_of_only_poison_times_answers_each(testing):
    client = bearer(testing.tree.users["street"])
    people = testing.residents_of(testing.tree.grids[0])
    body = {
        "scans": [
            scan_body("T-0001", people[0].id_number, at="0001-01-01T00:00:00Z"),
            scan_body("T-0001", people[1].id_number, at="9999-12-31T23:59:59+08:00"),
        ]
    }

    answer = post(client, f"/stations/{testing.stations[0].pk}/scans/batch", body)

    assert answer.status_code == 200, answer.content
    assert [r["reason"] for r in answer.json()["results"]] == ["bad_time", "bad_time"]
    assert not Scan.objects.exists()


def test_a_family_code_with_a_poison_time_is_refused_alone(testing):
    people = testing.residents_of(testing.tree.grids[0])
    items = [
        scan_batch.ScanInput(
            uuid.uuid4(),
            "T-0009",
            family_code(people[0].household_id),
            at=dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
        ),
        scan_batch.ScanInput(uuid.uuid4(), "T-0001", people[3].id_number),
    ]

    outcomes = scans_record(actor=None, station=testing.stations[0], items=items)

    assert [(o.status, o.reason, o.field) for o in outcomes] == [
        ("refused", "bad_time", "at"),
        ("accepted", "", None),
    ]


def test_a_value_the_database_refuses_fails_only_its_own_item(testing, monkeypatch):
    """Whatever the checks did not foresee: the batch is judged item by item after a
    DataError, the one item the database refuses is answered with the reason."""
    people = testing.residents_of(testing.tree.grids[0])
    poison = uuid.uuid4()
    insert = scan_batch.insert_rows_returning

    def refusing(model, fields, rows):
        if model is Scan and any(row[0] == poison for row in rows):
            raise DataError("value out of range")
        return insert(model, fields, rows)

    monkeypatch.setattr(scan_batch, "insert_rows_returning", refusing)
    items = [
        scan_batch.ScanInput(uuid.uuid4(), "T-0001", people[0].id_number),
        scan_batch.ScanInput(poison, "T-0001", people[1].id_number),
        scan_batch.ScanInput(uuid.uuid4(), "T-0001", people[2].id_number),
    ]

    outcomes = scans_record(actor=None, station=testing.stations[0], items=items)

    assert [(o.status, o.reason) for o in outcomes] == [
        ("accepted", ""),
        ("refused", "bad_data"),
        ("accepted", ""),
    ]
    assert Tube.objects.get(barcode="T-0001").filled == 2
    assert set(Scan.objects.values_list("resident_id", flat=True)) == {people[0].pk, people[2].pk}
