"""A round's tube-code pattern (a typo or a word is refused instead of opening a tube), the
station's current tube kept on the server (another device continues it), and a retest-list
member scanned into a pooled tube is told to use a single tube (`retest` set)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bastion.core.errors import DomainError
from bastion.testing.conftest import scan
from bastion.testing.results import services as result_services
from bastion.testing.rounds import services as round_services
from bastion.testing.rounds.models import Shift
from bastion.testing.scans import services
from bastion.testing.scans.api import station_state_out
from bastion.testing.scans.models import Tube


def test_a_word_is_not_opened_as_a_tube(testing):
    station = testing.stations[0]
    with pytest.raises(DomainError) as refused:
        services.tube_open(actor=testing.admin, station=station, barcode="NOSUCHCODE")
    assert refused.value.problems[0].field == "tube"
    assert "NOSUCHCODE is not a tube barcode of this round" in str(refused.value)
    person = testing.residents_of(testing.tree.grids[0])[0]
    outcome = scan(station, "NOSUCHCODE", person.id_number)
    assert (outcome.status, outcome.reason, outcome.field) == ("refused", "bad_tube", "tube")
    assert not Tube.objects.filter(barcode="NOSUCHCODE").exists()
    # The demo's and the crews' labels (letters, digits, dashes, a serial number) still open.
    for barcode in ("T-0001", "FAM12070001", "T12-3-0004-R01"):
        assert services.tube_open(actor=testing.admin, station=station, barcode=barcode).pk


def test_a_round_names_its_labs_tube_labels(testing):
    round_ = testing.round
    round_.tube_pattern = r"JS\d{6}"
    round_.save(update_fields=["tube_pattern"])
    station = testing.stations[0]
    people = testing.residents_of(testing.tree.grids[0])[:2]
    assert scan(station, "JS12345", people[0].id_number).reason == "bad_tube"  # one digit short
    assert scan(station, "T-0001", people[0].id_number).reason == "bad_tube"
    assert scan(station, "JS123456", people[0].id_number).status == "accepted"
    # A tube opened before the pattern was set goes on taking people.
    Tube.objects.filter(barcode="JS123456").update(barcode="OLD-0001")
    assert scan(station, "OLD-0001", people[1].id_number).status == "accepted"


def test_the_pattern_is_checked_when_the_round_is_opened(testing):
    now = timezone.now()
    with pytest.raises(DomainError) as refused:
        round_services.round_open(
            actor=testing.admin,
            node=testing.tree.street,
            name="第二轮",
            starts_at=now,
            ends_at=now + dt.timedelta(hours=8),
            tube_pattern="JS(\\d{6}",
        )
    assert refused.value.problems[0].field == "tube_pattern"
    default = round_services.round_open(
        actor=testing.admin,
        node=testing.tree.street,
        name="第三轮",
        starts_at=now,
        ends_at=now + dt.timedelta(hours=8),
        tube_pattern="  ",
    )
    assert default.tube_pattern == r"[A-Z0-9-]*[0-9][A-Z0-9-]*"


def test_the_pattern_costs_the_scan_path_no_query(testing):
    station = testing.stations[0]
    people = testing.residents_of(testing.tree.grids[0])[:2]
    assert scan(station, "Q-0001", people[0].id_number).ok  # warm up
    with CaptureQueriesContext(connection) as plain:
        assert scan(station, "Q-0001", people[1].id_number).ok
    with CaptureQueriesContext(connection) as refused:
        assert scan(station, "NOSUCHCODE", people[1].id_number).reason == "bad_tube"
    assert len(refused) <= len(plain)


def test_the_current_tube_is_kept_for_every_device(testing):
    station = testing.stations[0]
    people = testing.residents_of(testing.tree.grids[0])[:3]
    services.tube_open(actor=testing.admin, station=station, barcode="A-0001")
    assert scan(station, "A-0001", people[0].id_number).ok
    services.tube_open(actor=testing.admin, station=station, barcode="B-0001")
    assert station_state_out(station)["current"]["barcode"] == "B-0001"
    # Back to the half-full tube: a second device (a fresh read) continues it, not the newest.
    services.tube_open(actor=testing.admin, station=station, barcode="A-0001")
    state = station_state_out(station)
    assert state["current"] == {"barcode": "A-0001", "filled": 1, "capacity": 5, "kind": "pool"}
    assert state["tubes"][0]["barcode"] == "B-0001"  # the newest open tube is another one
    # A tube opened by a scan (a device that was offline) becomes the current one.
    assert scan(station, "C-0001", people[1].id_number).ok
    assert station_state_out(station)["current"]["barcode"] == "C-0001"
    assert Shift.objects.get(station=station, closed_at__isnull=True).current_tube.barcode == (
        "C-0001"
    )
    # Closed, it is no one's current tube.
    services.tube_close(actor=testing.admin, tube=Tube.objects.get(barcode="C-0001"))
    assert station_state_out(station)["current"] is None


def test_a_retest_list_member_in_a_pooled_tube_is_sent_to_a_single_tube(testing):
    station = testing.stations[0]
    pool = testing.residents_of(testing.tree.buildings[0])[:5]
    for r in pool:
        assert scan(station, "P-0001", r.id_number).ok
    result_services.results_import(
        actor=testing.admin,
        round=testing.round,
        rows=[result_services.ResultRow(2, "P-0001", "阳性")],
    )
    refused = scan(station, "P-0002", pool[0].id_number)
    assert (refused.status, refused.reason, refused.retest) == ("refused", "already_sampled", True)
    assert "retest list" in refused.message
    services.tube_open(actor=testing.admin, station=station, barcode="S-0001", single=True)
    taken = scan(station, "S-0001", pool[0].id_number)
    assert taken.status == "accepted" and taken.retest and taken.tube_closed
    # Someone already sampled and not on the list is refused without the retest offer.
    other = testing.residents_of(testing.tree.grids[0])
    other = [r for r in other if r not in pool][:1]
    assert scan(station, "P-0003", other[0].id_number).ok
    again = scan(station, "P-0004", other[0].id_number)
    assert (again.reason, again.retest) == ("already_sampled", False)
