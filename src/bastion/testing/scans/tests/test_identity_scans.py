"""Scanning people without a plain ID card: passports and permits by their numbers, children
under a guardian by their resident code, the family code (whole household or nobody,
idempotent, already-sampled members skipped), and manual entry marked and counted."""

import datetime as dt
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from bastion.accounts.services import token_issue
from bastion.geo import services as geo
from bastion.geo.models import DocKind, Household, Presence, Resident
from bastion.testing.conftest import scan
from bastion.testing.rounds import services as round_services
from bastion.testing.rounds.models import Shift
from bastion.testing.scans import batch, queries
from bastion.testing.scans.codes import family_code, read_scanned, resident_code
from bastion.testing.scans.family import member_client_id
from bastion.testing.scans.models import Scan, Tube, WalkIn
from bastion.testing.scans.services import scans_record


@pytest.fixture
def family(testing) -> tuple[Household, list[Resident]]:
    """A household of the first grid with 4 at home (2 + a foreign spouse with a passport and
    a child without a document under a guardian) and one member away."""
    household = Household.objects.filter(grid_id=testing.tree.grids[0].pk).order_by("pk").first()
    adults = list(Resident.objects.filter(household=household).order_by("pk"))
    spouse = geo.resident_create(
        household=household,
        name="Anna Müller",
        doc_kind=DocKind.PASSPORT,
        doc_number="C01X00T47",
        birth_date=dt.date(1988, 6, 1),
        sex="F",
        relation="spouse",
    )
    child = geo.resident_create(
        household=household,
        name="小米",
        doc_kind=DocKind.NONE,
        birth_date=dt.date.today() - dt.timedelta(days=900),
        sex="M",
        relation="child",
        guardian=adults[0],
    )
    geo.resident_create(
        household=household,
        name="出差的人",
        doc_kind=DocKind.HK_MACAO_PERMIT,
        doc_number="H12345678",
        birth_date=dt.date(1970, 1, 1),
        sex="M",
        relation="sibling",
        presence=Presence.AWAY,
    )
    return household, [*adults, spouse, child]


def test_a_passport_is_scanned_by_its_number(testing, family):
    _household, members = family
    out = scan(testing.stations[0], "T-0001", "c01x00t47")
    assert (out.status, out.resident_id, out.name) == ("accepted", members[2].pk, "Anna Müller")
    assert out.id_number == "C0*****47"  # masked as a document


def test_a_permit_is_found_with_its_issue_count_printed(testing, family):
    household, _members = family
    away = Resident.objects.get(household=household, doc_number="H12345678")
    geo.resident_update(resident=away, presence=Presence.HOME)
    out = scan(testing.stations[0], "T-0001", "H1234567803")
    assert (out.status, out.resident_id) == ("accepted", away.pk)


def test_an_unknown_document_is_refused_and_nothing_written(testing, family):
    out = scan(testing.stations[0], "T-0001", "E99999999")
    assert (out.status, out.reason, out.field) == ("refused", "unknown_document", "code")
    assert not Tube.objects.filter(barcode="T-0001").exists()


def test_a_child_is_scanned_by_the_resident_code(testing, family):
    _household, members = family
    out = scan(testing.stations[0], "T-0001", resident_code(members[3].pk))
    assert (out.status, out.resident_id, out.id_number) == ("accepted", members[3].pk, "")


def test_the_family_code_samples_everyone_at_home_one_scan_each(testing, family):
    household, members = family
    client_id = uuid.uuid4()
    out = scan(testing.stations[0], "T-0001", family_code(household.pk), client_id=client_id)

    assert (out.status, out.kind, out.filled, out.capacity) == ("accepted", "family", 4, 5)
    assert [m.resident_id for m in out.members] == [m.pk for m in members]
    assert {m.status for m in out.members} == {"accepted"}
    scans = Scan.objects.filter(tube__barcode="T-0001").order_by("resident_id")
    assert [s.resident_id for s in scans] == [m.pk for m in members]
    assert {s.client_id for s in scans} == {member_client_id(client_id, m.pk) for m in members}
    assert "出差的人" not in out.message  # away: not taken


def test_the_family_code_sent_again_is_a_replay(testing, family):
    household, _members = family
    client_id = uuid.uuid4()
    first = scan(testing.stations[0], "T-0001", family_code(household.pk), client_id=client_id)
    again = scan(testing.stations[0], "T-0001", family_code(household.pk), client_id=client_id)
    assert first.status == "accepted"
    assert (again.status, {m.status for m in again.members}) == ("replayed", {"replayed"})
    assert Scan.objects.count() == 4
    assert Tube.objects.get(barcode="T-0001").filled == 4


def test_the_family_code_skips_members_already_sampled_and_names_them(testing, family):
    household, members = family
    scan(testing.stations[1], "T-0100", members[0].id_number)
    out = scan(testing.stations[0], "T-0001", family_code(household.pk))
    assert out.status == "accepted"
    assert [m.resident_id for m in out.members] == [m.pk for m in members[1:]]
    assert members[0].name in out.message
    for m in members[1:]:
        scan(testing.stations[1], "T-0100", resident_code(m.pk))
    done = scan(testing.stations[0], "T-0002", family_code(household.pk))
    assert (done.status, done.reason) == ("refused", "already_sampled")
    assert not Tube.objects.filter(barcode="T-0002").exists()


def test_a_family_that_does_not_fit_the_tube_is_refused_whole(testing, family):
    household, members = family
    others = [
        r for r in testing.residents_of(testing.tree.grids[0]) if r.household_id != household.pk
    ]
    for r in others[:2]:
        scan(testing.stations[0], "T-0001", r.id_number)

    out = scan(testing.stations[0], "T-0001", family_code(household.pk))

    assert (out.status, out.reason, out.field) == ("refused", "family_too_big", "code")
    assert "room for 3" in out.message and "Anna Müller" in out.message
    assert Scan.objects.filter(resident__in=members).count() == 0
    assert Tube.objects.get(barcode="T-0001").filled == 2
    # A new tube takes them all.
    assert scan(testing.stations[0], "T-0002", family_code(household.pk)).filled == 4


def test_a_family_code_counts_in_the_shift_of_its_time_like_any_scan(testing, family):
    household, members = family
    station = testing.stations[0]
    during = timezone.now() - dt.timedelta(minutes=30)
    Shift.objects.filter(station=station).update(opened_at=during - dt.timedelta(minutes=20))
    round_services.station_close(actor=testing.admin, station=station)
    now = scan(station, "T-0001", family_code(household.pk))
    assert (now.status, now.reason) == ("refused", "station_closed")
    queued = scan(station, "T-0002", family_code(household.pk), at=during)
    assert (queued.status, queued.filled) == ("accepted", len(members))


def test_a_family_code_with_a_wrong_check_is_refused(testing, family):
    household, _members = family
    code = family_code(household.pk)
    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert read_scanned(forged).bad_code
    out = scan(testing.stations[0], "T-0001", forged)
    assert (out.status, out.reason) == ("refused", "unknown_code")


def test_a_batch_keeps_its_order_around_a_family_code(testing, family):
    household, _members = family
    others = [
        r for r in testing.residents_of(testing.tree.grids[0]) if r.household_id != household.pk
    ]

    def item(code):
        return batch.ScanInput(client_id=uuid.uuid4(), tube="T-0001", code=code)

    outcomes = scans_record(
        actor=None,
        station=testing.stations[0],
        items=[
            item(others[0].id_number),
            item(family_code(household.pk)),
            item(others[1].id_number),
        ],
    )
    assert [o.status for o in outcomes] == ["accepted", "accepted", "refused"]
    assert (outcomes[1].filled, outcomes[2].reason) == (5, "tube_full")


def test_manual_entries_are_marked_and_counted(testing, family):
    _household, members = family
    scan(testing.stations[0], "T-0001", resident_code(members[3].pk), manual=True)
    scan(testing.stations[0], "T-0001", members[0].id_number)
    manual = Scan.objects.get(resident=members[3])
    assert manual.manual and not Scan.objects.get(resident=members[0]).manual
    state = queries.station_state(testing.stations[0])
    assert (state.today, state.manual) == (2, 1)


def test_manual_search_finds_by_name_or_document_and_lists_children_under_the_guardian(
    testing, family
):
    _household, members = family
    admin = testing.admin
    found = queries.station_people(admin, testing.stations[0], members[0].name)
    assert [p["resident_id"] for p in found][:1] == [members[0].pk]
    child = next(p for p in found if p["resident_id"] == members[3].pk)
    assert (child["guardian"], child["code"]) == (members[0].name, resident_code(members[3].pk))
    by_number = queries.station_people(admin, testing.stations[0], "C01X00T47")
    assert [(p["resident_id"], p["document"]) for p in by_number] == [(members[2].pk, "C0*****47")]


def test_the_api_answers_a_family_scan_with_its_members_and_counts_manual_entries(testing, family):
    household, members = family
    client = Client(
        headers={
            "authorization": f"Bearer {token_issue(user=testing.tree.users['street'])}",
            "accept-language": "en",
        }
    )
    api = f"/api/v1/testing/stations/{testing.stations[0].pk}"
    body = {
        "scans": [
            {
                "client_id": str(uuid.uuid4()),
                "tube": "T-0001",
                "code": family_code(household.pk),
                "manual": True,
            }
        ]
    }
    out = client.post(f"{api}/scans/batch", body, content_type="application/json").json()
    result = out["results"][0]
    assert (result["status"], result["kind"], result["manual"]) == ("accepted", "family", True)
    assert [m["resident_id"] for m in result["members"]] == [m.pk for m in members]
    state = client.get(api).json()
    assert (state["today"], state["manual_today"]) == (4, 4)
    assert all(s["manual"] for s in state["recent"])
    found = client.get(f"{api}/people", {"q": "小米"}).json()
    assert [(p["name"], p["guardian"]) for p in found] == [("小米", members[0].name)]


def test_the_manual_search_stays_in_scope(testing, family):
    chief = Client(
        headers={"authorization": f"Bearer {token_issue(user=testing.tree.users['grid'])}"}
    )
    other = f"/api/v1/testing/stations/{testing.stations[2].pk}/people"
    assert chief.get(other, {"q": "居民"}).status_code == 404


def test_a_visitor_with_a_passport_is_taken_as_a_walk_in_only_when_asked(testing, family):
    refused = scan(testing.stations[0], "T-0001", "X98765432")
    assert refused.reason == "unknown_document"
    out = scan(testing.stations[0], "T-0001", "X98765432", walk_in=True, name="Visitor")
    assert (out.status, out.kind) == ("accepted", "walk_in")
    assert WalkIn.objects.get(round=testing.round).id_number == "X98765432"
    again = scan(testing.stations[1], "T-0009", "X98765432", walk_in=True)
    assert (again.status, again.reason) == ("refused", "already_sampled")
