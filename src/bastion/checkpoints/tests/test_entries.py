"""Checkpoint entries as device writes: every decision path stored with its tallies; a batch
with one bad item stores the rest and names the bad field and row; a retry is a replay;
the database refuses what the services would."""

import uuid

import pytest
from django.db import IntegrityError, transaction

from bastion.checkpoints import services
from bastion.checkpoints.models import Entry, Occupant
from bastion.checkpoints.tests.conftest import NOW, entry, person
from bastion.core.errors import DomainError

PASSENGER = {"driver": False, "name": "李秀英", "doc_number": "110105198001010024"}


def _record(tree, place, *items):
    return services.entries_record(actor=tree.users["community"], place=place, items=items, at=NOW)


@pytest.mark.parametrize(
    ("decision", "temperature", "code", "turned_back", "handed_over"),
    [
        ("pass", "36.5", "green", 0, 0),
        ("escort", "36.8", "yellow", 0, 0),
        ("turned_back", "36.6", "yellow", 1, 0),
        ("quarantine", "36.4", "red", 0, 1),
        ("fever_clinic", "38.2", "green", 0, 1),
    ],
)
def test_each_decision_is_stored(
    tree, checkpoint, decision, temperature, code, turned_back, handed_over
):
    [outcome] = _record(
        tree,
        checkpoint,
        entry(
            person(),
            person(decision=decision, temperature=temperature, health_code=code, **PASSENGER),
        ),
    )
    assert outcome.status == "accepted"
    row = Entry.objects.get(pk=outcome.id)
    assert (row.plate, row.people, row.turned_back, row.handed_over) == (
        "冀A12345",
        2,
        turned_back,
        handed_over,
    )
    assert row.community_id == tree.communities[0].pk and row.shift == 0  # 10:30: first shift
    stored = Occupant.objects.get(entry=row, driver=False)
    assert (stored.decision, str(stored.temperature), stored.health_code) == (
        decision,
        temperature,
        code,
    )
    assert stored.doc_number == "110105198001010024"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"decision": "pass", "temperature": "37.5"}, "occupants[0].decision"),
        ({"decision": "escort", "temperature": "38.0"}, "occupants[0].decision"),
        ({"decision": "pass", "health_code": "red"}, "occupants[0].decision"),
        ({"temperature": "43.5"}, "occupants[0].temperature"),
        ({"doc_number": "110105194912310021"}, "occupants[0].doc_number"),
        ({"decision": "wave_through"}, "occupants[0].decision"),
    ],
)
def test_rules_refuse_the_item(tree, checkpoint, kw, field):
    [outcome] = _record(tree, checkpoint, entry(person(**kw)))
    assert outcome.status == "refused"
    assert field in [p.field for p in outcome.problems]
    assert not Entry.objects.exists()


def test_batch_with_one_bad_item(tree, checkpoint):
    good, bad, also = entry(), entry(plate="京A1234"), entry(plate="沪AD12345", kind="car")
    outcomes = _record(tree, checkpoint, good, bad, also)
    assert [o.status for o in outcomes] == ["accepted", "refused", "accepted"]
    assert [(p.field, p.row) for p in outcomes[1].problems] == [("plate", 1)]
    assert sorted(Entry.objects.values_list("plate", flat=True)) == ["冀A12345", "沪AD12345"]
    assert Occupant.objects.count() == 2


def test_retry_is_a_replay(tree, checkpoint):
    item = entry()
    [first] = _record(tree, checkpoint, item)
    again = _record(tree, checkpoint, item, item)
    assert [(o.status, o.id) for o in again] == [("replayed", first.id), ("replayed", first.id)]
    assert Entry.objects.count() == 1


def test_the_same_client_id_twice_in_one_batch(tree, checkpoint):
    item = entry()
    outcomes = _record(tree, checkpoint, item, item)
    assert [o.status for o in outcomes] == ["accepted", "replayed"]
    assert outcomes[0].id == outcomes[1].id and Entry.objects.count() == 1


def test_on_foot_needs_no_plate_but_a_car_does(tree, checkpoint):
    outcomes = _record(
        tree, checkpoint, entry(plate="", kind="on_foot"), entry(plate="", kind="car")
    )
    assert [o.status for o in outcomes] == ["accepted", "refused"]


def test_only_a_checkpoint_takes_entries(tree, gate):
    with pytest.raises(DomainError):
        _record(tree, gate, entry())


def test_database_refuses_what_services_refuse(tree, checkpoint):
    [outcome] = _record(tree, checkpoint, entry())
    occupant = Occupant.objects.get()
    for change in ({"temperature": 45}, {"decision": "maybe"}, {"doc_kind": "none"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Occupant.objects.filter(pk=occupant.pk).update(**change)
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.filter(pk=outcome.id).update(plate="")
    with pytest.raises(IntegrityError), transaction.atomic():  # a second driver
        Occupant.objects.create(
            entry_id=outcome.id,
            driver=True,
            name="x",
            doc_kind="passport",
            doc_number="X1234567",
            health_code="green",
            temperature=36,
            decision="pass",
            arrived_at=NOW,
        )


def test_leave(tree, checkpoint):
    [outcome] = _record(tree, checkpoint, entry())
    row = Entry.objects.get(pk=outcome.id)
    services.entry_leave(actor=tree.users["community"], entry=row, at=NOW.replace(hour=11))
    with pytest.raises(DomainError):
        services.entry_leave(actor=tree.users["community"], entry=row)
    assert uuid.UUID(str(row.client_id))


def test_a_plate_seen_before_fills_its_people_masked_and_copies_their_numbers(tree, checkpoint):
    from bastion.checkpoints.queries import plate_usual

    user = tree.users["community"]
    assert plate_usual(user, "冀A12345") is None
    _record(tree, checkpoint, entry(person(), person(**PASSENGER)))
    usual = plate_usual(user, "冀A12345")
    assert (usual["kind"], usual["cargo"], usual["destination"]) == ("truck", "蔬菜", "新发地市场")
    assert [(p["name"], p["driver"], p["doc_number"], p["phone"]) for p in usual["occupants"]] == [
        ("王建国", True, "1101**********002X", "139****5678"),
        ("李秀英", False, "1101**********0024", "139****5678"),
    ]
    assert plate_usual(tree.users["other_grid"], "冀A12345") is None  # outside their scope
    driver = usual["occupants"][0]
    again = entry(
        person(doc_number="", phone="", known_id=driver["known_id"], temperature="36.9"),
        arrived_at=NOW.replace(hour=9),
    )
    [outcome] = _record(tree, checkpoint, again)
    stored = Occupant.objects.get(entry_id=outcome.id)
    assert (stored.doc_number, stored.phone, str(stored.temperature)) == (
        "11010519491231002X",
        "13912345678",
        "36.9",
    )
    [stranger] = services.entries_record(
        actor=tree.users["other_grid"],
        place=checkpoint,
        items=[entry(person(doc_number="", known_id=driver["known_id"]))],
        at=NOW,
    )
    assert [p.field for p in stranger.problems] == ["occupants[0].known_id"]


def test_daily_report_counts_checked_turned_back_and_handed_over(tree, checkpoint, gate):
    import datetime as dt

    from bastion.checkpoints.services import PassageInput, passages_record
    from bastion.incidents.services import control_set
    from bastion.reports import queries as report_queries
    from bastion.reports.services import report_compute

    _record(
        tree,
        checkpoint,
        entry(person(), person(decision="turned_back", health_code="yellow", **PASSENGER)),
        entry(person(decision="fever_clinic", temperature="38.5"), plate="京A99999"),
    )
    control_set(actor=tree.users["admin"], node=tree.units[0], level="sealed", reason="阳性")
    sealed = tree.units[0].pk
    from bastion.geo.models import Resident

    resident = Resident.objects.filter(unit_id=sealed).first()
    passages_record(
        actor=tree.users["community"],
        gate=gate,
        items=[PassageInput(client_id=uuid.uuid4(), direction="out", resident_id=resident.pk)],
        at=NOW,
    )
    report_compute(day=NOW.date(), now=NOW + dt.timedelta(hours=12))
    totals = report_queries.day_totals(tree.users["street"], tree.street, NOW.date())
    assert (
        totals["checkpoint_people"],
        totals["checkpoint_turned_back"],
        totals["checkpoint_handed_over"],
        totals["gate_turned_back"],
    ) == (3, 1, 1, 1)
