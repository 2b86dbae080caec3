"""Scanning: tubes fill and close themselves, every refusal with its reason and field,
walk-ins kept apart, resident codes, idempotent retries (single and batch), and a batch
costing a fixed number of queries whatever its size."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from bastion.core.errors import DomainError
from bastion.geo import services as geo
from bastion.geo.identity import make_id_number
from bastion.testing.conftest import scan, site_elsewhere
from bastion.testing.results import services as result_services
from bastion.testing.rounds import services as round_services
from bastion.testing.rounds.models import Round, Shift, Site
from bastion.testing.scans import batch as scan_batch
from bastion.testing.scans import services, shifts
from bastion.testing.scans.codes import resident_code
from bastion.testing.scans.models import Scan, ScanKind, Tube, TubeStatus, WalkIn
from bastion.testing.scans.services import scans_record

STRANGER = make_id_number("110101", dt.date(1980, 5, 17), 123)  # valid, lives nowhere here


def batch(station, items, actor=None):
    return scans_record(actor=actor, station=station, items=items)


def item(tube, code, **extra):
    return scan_batch.ScanInput(
        client_id=extra.pop("client_id", uuid.uuid4()), tube=tube, code=code, **extra
    )


def test_a_pool_fills_to_capacity_and_closes_itself(testing):
    people = testing.residents_of(testing.tree.grids[0])
    outcomes = [scan(testing.stations[0], "T-0001", r.id_number) for r in people[:6]]

    assert [(o.status, o.filled, o.capacity) for o in outcomes[:5]] == [
        ("accepted", n, 5) for n in range(1, 6)
    ]
    assert [o.tube_closed for o in outcomes[:5]] == [False] * 4 + [True]
    refused = outcomes[5]
    assert (refused.status, refused.reason, refused.field) == ("refused", "tube_full", "tube")
    assert "T-0001" in refused.message
    tube = Tube.objects.get(barcode="T-0001")
    assert (tube.filled, tube.status, tube.kind) == (5, TubeStatus.CLOSED, "pool")
    assert tube.closed_at is not None
    assert Scan.objects.filter(tube=tube).count() == 5
    # The sixth person goes into the next tube.
    assert scan(testing.stations[0], "T-0002", people[5].id_number).filled == 1


def test_a_resident_sampled_twice_is_told_their_tube_and_counted_once(testing):
    r = testing.residents_of(testing.tree.grids[0])[0]
    assert scan(testing.stations[0], "T-0001", r.id_number).status == "accepted"

    again = scan(testing.stations[1], "T-0009", r.id_number)

    assert (again.status, again.reason, again.field, again.tube) == (
        "refused",
        "already_sampled",
        "code",
        "T-0001",
    )
    assert again.resident_id == r.pk and "T-0001" in again.message
    assert Scan.objects.filter(resident=r).count() == 1
    assert not Tube.objects.filter(barcode="T-0009").exists()


def test_the_same_resident_twice_in_one_batch_is_counted_once(testing):
    r = testing.residents_of(testing.tree.grids[0])[0]
    first, second = batch(
        testing.stations[0], [item("T-0001", r.id_number), item("T-0001", r.id_number)]
    )
    assert first.status == "accepted"
    assert (second.reason, second.tube) == ("already_sampled", "T-0001")
    assert Tube.objects.get(barcode="T-0001").filled == 1


def test_a_tube_of_another_round_is_refused(testing):
    admin, tree = testing.admin, testing.tree
    scan(testing.stations[0], "T-0001", testing.residents_of(tree.grids[0])[0].id_number)
    round_services.station_close(actor=admin, station=testing.stations[2])
    other = round_services.round_open(
        actor=admin,
        node=tree.grids[1],
        name="网格复检",
        starts_at=timezone.now() - dt.timedelta(minutes=5),
        ends_at=timezone.now() + dt.timedelta(hours=2),
        pool_size=10,
    )
    round_services.station_open(actor=admin, station=testing.stations[2], round=other)

    out = scan(testing.stations[2], "T-0001", testing.residents_of(tree.grids[1])[0].id_number)

    assert (out.reason, out.field) == ("tube_other_round", "tube")
    with pytest.raises(DomainError) as e:
        services.tube_open(actor=admin, station=testing.stations[2], barcode="t-0001")
    assert e.value.problems[0].field == "tube"


def test_a_tube_open_at_another_station_is_refused(testing):
    people = testing.residents_of(testing.tree.grids[0])
    scan(testing.stations[0], "T-0001", people[0].id_number)
    out = scan(testing.stations[1], "T-0001", people[1].id_number)
    assert (out.reason, out.field) == ("tube_other_station", "tube")


def test_a_tube_closed_by_hand_is_refused(testing):
    people = testing.residents_of(testing.tree.grids[0])
    scan(testing.stations[0], "T-0001", people[0].id_number)
    tube = services.tube_close(actor=testing.admin, tube=Tube.objects.get(barcode="T-0001"))
    assert (tube.status, tube.filled) == ("closed", 1)

    out = scan(testing.stations[0], "T-0001", people[1].id_number)
    assert (out.reason, out.field) == ("tube_closed", "tube")


def test_a_station_not_open_is_refused_but_scans_from_its_shift_still_go_in(testing):
    station, people = testing.stations[0], testing.residents_of(testing.tree.grids[0])
    during = timezone.now() - dt.timedelta(minutes=30)
    Shift.objects.filter(station=station).update(opened_at=during - dt.timedelta(minutes=20))
    round_services.station_close(actor=testing.admin, station=station)

    now = scan(station, "T-0001", people[0].id_number)
    assert (now.status, now.reason, now.field) == ("refused", "station_closed", "station")
    with pytest.raises(DomainError):
        services.tube_open(actor=testing.admin, station=station, barcode="T-0002")
    # A scan queued offline while the station was open is taken when it syncs.
    late = scan(station, "T-0003", people[1].id_number, at=during)
    assert late.status == "accepted"


def test_a_round_past_its_end_refuses_scans(testing):
    people = testing.residents_of(testing.tree.grids[0])
    # The planned end passed with the stations still open.
    Round.objects.filter(pk=testing.round.pk).update(
        ends_at=timezone.now() - dt.timedelta(minutes=1)
    )
    out = scan(testing.stations[0], "T-0001", people[0].id_number)
    assert (out.reason, out.field) == ("round_not_open", "round")


def test_closing_a_round_closes_its_stations(testing):
    round_services.round_close(actor=testing.admin, round=testing.round)
    out = scan(
        testing.stations[0], "T-0001", testing.residents_of(testing.tree.grids[0])[0].id_number
    )
    assert (out.reason, out.field) == ("station_closed", "station")
    assert not Shift.objects.filter(closed_at__isnull=True).exists()


def test_a_round_is_served_inside_its_area_or_over_part_of_a_street_by_the_whole_street(testing):
    tree, near = testing.tree, testing.sites[0]  # near: in the first community
    far = site_elsewhere(testing)
    far_station = far.stations.get()
    serving = {
        tree.district: {near, far},
        tree.street: {near},
        tree.communities[1]: {near},  # not in it, but in its street
        tree.grids[3]: {near},
    }
    for node, expected in serving.items():
        round_ = Round(node=node)
        round_.locate(node)
        assert {s for s in (near, far) if round_services.serves(s, round_)} == expected, node
        in_filter = Site.objects.filter(
            round_services.round_area_q(round_), pk__in=[near.pk, far.pk]
        )
        assert set(in_filter) == expected, node
        assert round_services.serves(far_station, round_) == (far in expected)
    with pytest.raises(DomainError, match="outside the round's area"):
        round_services.station_open(actor=testing.admin, station=far_station, round=testing.round)
    assert not Shift.objects.filter(station=far_station).exists()


def test_a_stations_shift_at_a_moment_allows_the_grace_and_ends_at_its_close(testing):
    station = testing.stations[0]
    opened = timezone.now() - dt.timedelta(hours=1)
    Shift.objects.filter(station=station).update(opened_at=opened)
    closed = round_services.station_close(actor=testing.admin, station=station)
    assert shifts.shift_at(station, opened + dt.timedelta(minutes=30)) == closed
    assert shifts.shift_at(station, opened - round_services.SHIFT_GRACE) == closed  # a slow clock
    assert shifts.shift_at(station, opened - round_services.SHIFT_GRACE * 2) is None
    assert shifts.shift_at(station, closed.closed_at + dt.timedelta(seconds=1)) is None
    assert shifts.shift_at(station, opened).round.node == testing.round.node


@pytest.mark.parametrize(
    ("tube", "code", "extra", "reason", "field"),
    [
        ("T-0001", "220421198001011234", {}, "bad_id_number", "code"),
        ("T-0001", "12345", {}, "bad_id_number", "code"),
        ("T-0001", "R1-AAAAAA", {}, "unknown_code", "code"),
        ("T-0001", resident_code(999_999), {}, "unknown_code", "code"),
        ("T-0001", STRANGER, {}, "unknown_person", "code"),
        ("T-0001", STRANGER, {"walk_in": True, "phone": "12345"}, "bad_phone", "phone"),
        ("no", "{first}", {}, "bad_tube", "tube"),
        ("T-0001", "{first}", {"at": "future"}, "bad_time", "at"),
    ],
)
def test_each_refusal_names_its_reason_and_field_and_changes_nothing(
    testing, tube, code, extra, reason, field
):
    first = testing.residents_of(testing.tree.grids[0])[0]
    if extra.get("at") == "future":
        extra["at"] = timezone.now() + dt.timedelta(hours=1)
    out = scan(testing.stations[0], tube, code.format(first=first.id_number), **extra)
    assert (out.status, out.reason, out.field) == ("refused", reason, field)
    assert out.message
    assert not Scan.objects.exists() and not Tube.objects.exists()
    assert not WalkIn.objects.exists()


def test_the_single_service_raises_a_domain_error_naming_the_field(testing):
    r = testing.residents_of(testing.tree.grids[0])[0]
    services.scan_record(actor=None, station=testing.stations[0], item=item("T-0001", r.id_number))
    with pytest.raises(scan_batch.ScanRefused) as e:
        services.scan_record(
            actor=None, station=testing.stations[0], item=item("T-0002", r.id_number)
        )
    assert e.value.problems[0].field == "code"
    assert e.value.outcome.tube == "T-0001"


def test_walk_ins_are_sampled_apart_from_residents_and_once(testing):
    station = testing.stations[0]
    out = scan(station, "T-0001", STRANGER, walk_in=True, name="过路司机", phone="13912345678")
    assert (out.status, out.kind, out.resident_id) == ("accepted", ScanKind.WALK_IN, None)
    walk_in = WalkIn.objects.get()
    assert (walk_in.id_number, walk_in.name, walk_in.phone) == (STRANGER, "过路司机", "13912345678")
    assert walk_in.community_id == station.community_id  # located at the station

    again = scan(testing.stations[1], "T-0002", STRANGER, walk_in=True)
    assert (again.reason, again.tube) == ("already_sampled", "T-0001")


def test_a_resident_of_another_area_is_taken_as_a_walk_in(testing):
    admin, tree = testing.admin, testing.tree
    household = geo.household_create(unit=tree.units[0], room="909", floor=2)
    round_services.station_close(actor=admin, station=testing.stations[0])
    small = round_services.round_open(
        actor=admin,
        node=tree.grids[0],
        name="一个网格",
        starts_at=timezone.now() - dt.timedelta(minutes=1),
        ends_at=timezone.now() + dt.timedelta(hours=1),
        pool_size=5,
    )
    round_services.station_open(actor=admin, station=testing.stations[0], round=small)
    outsider = testing.residents_of(tree.grids[3])[0]

    out = scan(testing.stations[0], "T-0001", outsider.id_number)

    assert (out.status, out.kind) == ("accepted", ScanKind.WALK_IN)
    walk_in = WalkIn.objects.get()
    assert (walk_in.resident_id, walk_in.name) == (outsider.pk, outsider.name)
    assert household.pk  # the new household changes nothing here


def test_a_resident_code_scans_like_an_id_number(testing):
    people = testing.residents_of(testing.tree.grids[0])
    out = scan(testing.stations[0], "T-0001", resident_code(people[0].pk).lower())
    assert (out.status, out.resident_id, out.name) == ("accepted", people[0].pk, people[0].name)
    again = scan(testing.stations[0], "T-0001", people[0].id_number)
    assert again.reason == "already_sampled"


def test_a_retried_scan_replays_and_writes_nothing(testing):
    r = testing.residents_of(testing.tree.grids[0])[0]
    one = item("T-0001", r.id_number)
    first = batch(testing.stations[0], [one])[0]
    retry = batch(testing.stations[0], [one])[0]

    assert first.status == "accepted"
    assert retry.status == "replayed"
    assert (retry.tube, retry.scan_id, retry.resident_id) == ("T-0001", first.scan_id, r.pk)
    assert Scan.objects.count() == 1
    assert Tube.objects.get(barcode="T-0001").filled == 1


def test_a_retried_batch_replays_every_scan(testing):
    people = testing.residents_of(testing.tree.grids[0]) + testing.residents_of(
        testing.tree.grids[1]
    )
    items = [item(f"T-{i // 5:04d}", r.id_number) for i, r in enumerate(people[:12])]
    items.append(item("T-0009", people[0].id_number))  # refused: already sampled
    first = batch(testing.stations[0], items)
    again = batch(testing.stations[0], items)

    assert [o.status for o in first] == ["accepted"] * 12 + ["refused"]
    assert [o.status for o in again] == ["replayed"] * 12 + ["refused"]
    assert [o.scan_id for o in again[:12]] == [o.scan_id for o in first[:12]]
    assert Scan.objects.count() == 12
    assert sorted(Tube.objects.values_list("barcode", "filled")) == [
        ("T-0000", 5),
        ("T-0001", 5),
        ("T-0002", 2),
    ]


def test_a_client_id_repeated_inside_a_batch_is_written_once(testing):
    r = testing.residents_of(testing.tree.grids[0])[0]
    one = item("T-0001", r.id_number)
    outcomes = batch(testing.stations[0], [one, one])
    assert [o.status for o in outcomes] == ["accepted", "replayed"]
    assert Scan.objects.count() == 1


def test_a_client_id_used_at_another_station_is_refused(testing):
    people = testing.residents_of(testing.tree.grids[0])
    client_id = uuid.uuid4()
    batch(testing.stations[0], [item("T-0001", people[0].id_number, client_id=client_id)])
    out = batch(testing.stations[1], [item("T-0002", people[1].id_number, client_id=client_id)])[0]
    assert (out.reason, out.field) == ("client_id_reused", "client_id")


def test_a_batch_is_limited_in_size(testing):
    r = testing.residents_of(testing.tree.grids[0])[0]
    with pytest.raises(DomainError) as e:
        batch(testing.stations[0], [item("T-0001", r.id_number)] * (scan_batch.MAX_BATCH + 1))
    assert e.value.problems[0].field == "scans"


def test_a_batch_costs_the_same_few_queries_whatever_its_size(
    testing, django_assert_max_num_queries
):
    people = [r for g in testing.tree.grids for r in testing.residents_of(g)]
    items = [item(f"B-{i // 5:04d}", r.id_number) for i, r in enumerate(people)]
    with django_assert_max_num_queries(12):  # 128 scans into 26 new tubes
        outcomes = batch(testing.stations[0], items)
    assert {o.status for o in outcomes} == {"accepted"}
    assert Scan.objects.count() == 128


def test_a_retest_needs_a_single_tube(testing):
    from bastion.testing.results.models import Retest

    people = testing.residents_of(testing.tree.grids[0])
    for r in people[:5]:
        scan(testing.stations[0], "P-0001", r.id_number)
    result_services.results_import(
        actor=testing.admin,
        round=testing.round,
        rows=[result_services.ResultRow(2, "P-0001", "阳性")],
    )
    assert Retest.objects.filter(tube__isnull=True).count() == 5

    pooled = scan(testing.stations[0], "P-0002", people[0].id_number)
    assert pooled.reason == "already_sampled" and "single tube" in pooled.message
    single = scan(testing.stations[0], "S-0001", people[0].id_number, single=True)
    assert (single.status, single.retest, single.capacity, single.tube_closed) == (
        "accepted",
        True,
        1,
        True,
    )
    retest = Retest.objects.get(resident=people[0])
    assert retest.tube.barcode == "S-0001" and retest.sampled_at is not None
    twice = scan(testing.stations[0], "S-0002", people[0].id_number, single=True)
    assert (twice.reason, twice.tube) == ("already_sampled", "S-0001")


def test_a_batch_reports_each_scans_fill_of_its_tube(testing):
    people = testing.residents_of(testing.tree.grids[0])
    outcomes = batch(testing.stations[0], [item("T-0001", r.id_number) for r in people[:7]])
    assert [(o.status, o.filled, o.tube_closed) for o in outcomes] == [
        ("accepted", 1, False),
        ("accepted", 2, False),
        ("accepted", 3, False),
        ("accepted", 4, False),
        ("accepted", 5, True),
        ("refused", 5, True),
        ("refused", 5, True),
    ]
    assert outcomes[5].reason == "tube_full"


def test_a_client_id_reused_for_another_scan_is_refused_naming_it(testing):
    """The same id with the same scan replays; with another person (a later batch, or a
    copy in the same batch) it is refused naming `client_id`, and nothing more is written."""
    people = testing.residents_of(testing.tree.grids[0])
    client_id = uuid.uuid4()
    first = item("T-0001", people[0].id_number, client_id=client_id)
    assert batch(testing.stations[0], [first])[0].status == "accepted"
    assert batch(testing.stations[0], [first])[0].status == "replayed"
    other = item("T-0001", people[1].id_number, client_id=client_id)
    out = batch(testing.stations[0], [other])[0]
    assert (out.status, out.reason, out.field) == ("refused", "client_id_reused", "client_id")
    copy_id = uuid.uuid4()
    a = item("T-0001", people[2].id_number, client_id=copy_id)
    b = item("T-0001", people[3].id_number, client_id=copy_id)
    assert [o.status for o in batch(testing.stations[0], [a, b])] == ["accepted", "refused"]
    assert sorted(Scan.objects.values_list("resident_id", flat=True)) == sorted(
        [people[0].pk, people[2].pk]
    )
