"""Chain of custody, in the services: packing closed tubes into a bag, sealing it only on the
right count (the refusal names the missing and extra tubes), boxing, hand-overs, the lab's
receipt with a mismatch recorded, a tube's trail end to end, what is overdue, and retries
with the same client id writing nothing twice."""

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from bastion.core.errors import Conflict, DomainError
from bastion.core.models import ChangeLog
from bastion.testing.conftest import fill_tubes, scan, site_elsewhere
from bastion.testing.custody import handovers, services
from bastion.testing.custody import queries as custody_queries
from bastion.testing.custody.models import Bag, BagTube, Box, BoxReceipt, Handover
from bastion.testing.results import services as result_services
from bastion.testing.rounds.models import Round
from bastion.testing.scans.models import Tube


@pytest.fixture(autouse=True)
def english():
    """The services' texts in English, whatever an earlier test's request activated."""
    with translation.override("en"):
        yield


def test_a_bag_is_packed_with_closed_tubes_of_its_site_only(testing, packed):
    assert packed.barcode == "B-0001" and packed.tubes == 3
    # an open tube, a tube of another site, a tube already in a bag are each refused by name
    assert scan(
        testing.stations[0], "C-OPEN-1", testing.residents_of(testing.tree.grids[0])[20].id_number
    ).ok
    with pytest.raises(DomainError, match="C-OPEN-1 is still open"):
        services.tube_pack(actor=testing.admin, bag=packed, barcode="c-open-1")
    other_site = fill_tubes(testing, testing.stations[2], ["C-0009"], offset=25)[0]
    with pytest.raises(DomainError, match="C-0009 was sampled at another site"):
        services.tube_pack(actor=testing.admin, bag=packed, barcode=other_site.barcode)
    second = services.bag_open(
        actor=testing.admin, round=testing.round, site=testing.sites[0], barcode="B-0002"
    )
    with pytest.raises(Conflict, match="C-0001 is already in bag B-0001"):
        services.tube_pack(actor=testing.admin, bag=second, barcode="C-0001")
    with pytest.raises(DomainError, match="No tube has barcode"):
        services.tube_pack(actor=testing.admin, bag=second, barcode="NOPE-1")
    # and the database holds the rule itself: one bag per tube
    with pytest.raises(IntegrityError), transaction.atomic():
        BagTube.objects.create(
            bag=second, tube=Tube.objects.get(barcode="C-0001"), packed_at=timezone.now()
        )
    assert BagTube.objects.count() == 3


def test_a_bag_is_not_sealed_on_a_wrong_count_and_the_refusal_names_the_tubes(testing, packed):
    with pytest.raises(DomainError) as refused:
        services.bag_seal(actor=testing.admin, bag=packed, counted=2)
    text = str(refused.value)
    assert "3 tubes in the system but 2 were counted" in text
    assert "C-0001, C-0002, C-0003" in text  # what the system holds, to check against
    packed.refresh_from_db()
    assert packed.status == "open" and packed.counted is None

    # The packer scans what is physically in the bag: C-0002 is not there, C-0404 is.
    with pytest.raises(DomainError) as refused:
        services.bag_seal(
            actor=testing.admin, bag=packed, counted=3, scanned=["C-0001", "c-0003", "C-0404"]
        )
    problems = {p.field: p.message for p in refused.value.problems}
    assert "C-0002" in problems["missing"] and "C-0404" in problems["extra"]
    assert "count" not in problems  # the counts agree; the tubes do not
    packed.refresh_from_db()
    assert packed.status == "open"

    # Taking C-0002 out (packed by mistake) makes the bag right for a count of 2.
    services.tube_unpack(actor=testing.admin, bag=packed, barcode="C-0002")
    sealed = services.bag_seal(
        actor=testing.admin, bag=packed, counted=2, scanned=["C-0001", "C-0003"]
    )
    assert sealed.status == "sealed" and sealed.counted == sealed.tubes == 2
    with pytest.raises(Conflict, match="sealed"):
        services.tube_pack(actor=testing.admin, bag=sealed, barcode="C-0002")
    # the database refuses a sealed bag whose count is not its tubes
    with pytest.raises(IntegrityError), transaction.atomic():
        Bag.objects.filter(pk=sealed.pk).update(counted=5)


def test_a_refused_seal_reads_the_bags_tubes_once(testing, packed):
    with CaptureQueriesContext(connection) as queries, pytest.raises(DomainError) as refused:
        services.bag_seal(actor=testing.admin, bag=packed, counted=2)
    assert "The system holds: C-0001, C-0002, C-0003" in str(refused.value)
    reads = [q["sql"] for q in queries.captured_queries if "testing_bagtube" in q["sql"]]
    assert len(reads) == 1, reads


def test_a_bag_or_box_is_opened_only_at_a_site_serving_the_round(testing):
    far = site_elsewhere(testing)
    for open_ in (services.bag_open, services.box_open):
        with pytest.raises(DomainError, match="site is outside the round's area"):
            open_(actor=testing.admin, round=testing.round, site=far, barcode="FAR-1")
    assert not Bag.objects.exists() and not Box.objects.exists()


def test_a_lookup_by_a_malformed_barcode_finds_nothing(testing, packed):
    assert custody_queries.find(testing.admin, " b-0001 ") == packed
    for code in ("", "B", "B 0001"):
        with pytest.raises(Http404):
            custody_queries.find(testing.admin, code)


def test_a_reused_open_id_never_returns_another_sites_bag(testing):
    cid = uuid.uuid4()
    bag = services.bag_open(
        actor=testing.admin,
        round=testing.round,
        site=testing.sites[0],
        barcode="RB-9",
        client_id=cid,
    )
    with pytest.raises(Conflict) as e:
        services.bag_open(
            actor=testing.admin,
            round=testing.round,
            site=testing.sites[1],
            barcode="RB-8",
            client_id=cid,
        )
    assert e.value.problems[0].field == "client_id"
    assert list(Bag.objects.values_list("pk", flat=True)) == [bag.pk]


def test_retries_with_the_same_client_id_write_once(testing):
    tubes = fill_tubes(testing, testing.stations[0], ["R-0001", "R-0002"])
    ids = [uuid.uuid4() for _ in range(8)]
    site, round_ = testing.sites[0], testing.round
    for _attempt in range(2):
        bag = services.bag_open(
            actor=testing.admin, round=round_, site=site, barcode="RB-1", client_id=ids[0]
        )
        for t, cid in zip(tubes, ids[1:3], strict=True):
            services.tube_pack(actor=testing.admin, bag=bag, barcode=t.barcode, client_id=cid)
        bag = services.bag_seal(actor=testing.admin, bag=bag, counted=2, client_id=ids[3])
        box = services.box_open(
            actor=testing.admin, round=round_, site=site, barcode="RX-1", client_id=ids[4]
        )
        services.bag_box(actor=testing.admin, box=box, barcode="RB-1", client_id=ids[5])
        handovers.box_handover(
            actor=testing.admin,
            box=box,
            leg="pickup",
            giver=handovers.party_of(testing.admin),
            taker=handovers.Party(name="司机王", phone="13912340000"),
            client_id=ids[6],
        )
        handovers.box_receive(
            actor=testing.admin, box=box, bags_counted=1, tubes_counted=2, client_id=ids[7]
        )
    assert Bag.objects.count() == 1 and BagTube.objects.count() == 2
    assert Box.objects.get().bags == 1 and Box.objects.get().tubes == 2
    assert Handover.objects.count() == 1 and BoxReceipt.objects.count() == 1
    assert ChangeLog.objects.filter(object_type="testing.bag", action="create").count() == 1
    # an id reused for another thing is refused, not taken for a replay
    other = services.bag_open(actor=testing.admin, round=round_, site=site, barcode="RB-2")
    with pytest.raises(Conflict):
        services.tube_pack(actor=testing.admin, bag=other, barcode="R-0001", client_id=ids[1])


def test_a_tube_s_trail_runs_from_the_station_to_the_result(testing, packed):
    bag = services.bag_seal(actor=testing.admin, bag=packed, counted=3)
    box = services.box_open(
        actor=testing.admin, round=testing.round, site=testing.sites[0], barcode="X-0001"
    )
    services.bag_box(actor=testing.admin, box=box, barcode=bag.barcode)
    with pytest.raises(Conflict, match="first hand-over is site → transport"):
        handovers.box_handover(
            actor=testing.admin,
            box=box,
            leg="delivery",
            giver=handovers.Party(name="甲"),
            taker=handovers.Party(name="乙"),
            client_id=uuid.uuid4(),
        )
    with pytest.raises(DomainError, match="Mobile number"):
        handovers.box_handover(
            actor=testing.admin,
            box=box,
            leg="pickup",
            giver=handovers.party_of(testing.admin),
            taker=handovers.Party(name="司机王", phone="12345"),
            client_id=uuid.uuid4(),
        )
    handovers.box_handover(
        actor=testing.admin,
        box=box,
        leg="pickup",
        giver=handovers.party_of(testing.admin),
        taker=handovers.Party(name="司机王", phone="13912340000"),
        client_id=uuid.uuid4(),
    )
    with pytest.raises(Conflict, match="has left the site"):
        services.bag_box(actor=testing.admin, box=box, barcode="B-0009")
    handovers.box_handover(
        actor=testing.admin,
        box=box,
        leg="delivery",
        giver=handovers.Party(name="司机王", phone="13912340000"),
        taker=handovers.Party(name="检验科李"),
        client_id=uuid.uuid4(),
    )
    receipt = handovers.box_receive(
        actor=testing.admin,
        box=box,
        bags_counted=1,
        tubes_counted=3,
        received_by="检验科李",
        client_id=uuid.uuid4(),
    )
    assert not receipt.mismatch
    result_services.results_import(
        actor=testing.admin,
        round=testing.round,
        rows=[result_services.ResultRow(None, "C-0001", "negative")],
    )

    tube = Tube.objects.get(barcode="C-0001")
    trail = custody_queries.trail(testing.admin, tube)
    whats = [s.what for s in trail.steps]
    assert whats == [
        "Opened at the station",
        *[f"Sample {n} of 5" for n in range(1, 6)],
        "Tube closed",
        "Packed into bag B-0001",
        "Bag sealed",
        "Bag put into box X-0001",
        "Site → transport",
        "Transport → lab",
        "Received by the lab",
        "Lab result",
    ]
    times = [s.at for s in trail.steps]
    assert times == sorted(times)
    pickup = trail.steps[-4].detail
    assert "司机王 139****0000" in pickup and "13912340000" not in pickup  # masked
    assert trail.steps[-1].detail == "Negative" and trail.next_step == ""
    assert Bag.objects.get(pk=bag.pk).received_at == receipt.at
    with pytest.raises(Conflict, match="already received"):
        handovers.box_receive(
            actor=testing.admin, box=box, bags_counted=1, tubes_counted=3, client_id=uuid.uuid4()
        )


def test_a_receipt_that_does_not_match_is_recorded_and_the_missing_bag_stays_overdue(testing):
    tubes = fill_tubes(testing, testing.stations[0], ["M-0001", "M-0002"])
    box = services.box_open(
        actor=testing.admin, round=testing.round, site=testing.sites[0], barcode="MX-1"
    )
    for t, code in zip(tubes, ["MB-1", "MB-2"], strict=True):
        bag = services.bag_open(
            actor=testing.admin, round=testing.round, site=testing.sites[0], barcode=code
        )
        services.tube_pack(actor=testing.admin, bag=bag, barcode=t.barcode)
        services.bag_seal(actor=testing.admin, bag=bag, counted=1)
        services.bag_box(actor=testing.admin, box=box, barcode=code)
    handovers.box_handover(
        actor=testing.admin,
        box=box,
        leg="pickup",
        giver=handovers.party_of(testing.admin),
        taker=handovers.Party(name="司机"),
        client_id=uuid.uuid4(),
    )
    receipt = handovers.box_receive(
        actor=testing.admin,
        box=box,
        bags_counted=1,
        tubes_counted=1,
        scanned_bags=["MB-1"],
        client_id=uuid.uuid4(),
    )
    assert receipt.mismatch and receipt.missing_bags == ["MB-2"]
    assert (receipt.bags_expected, receipt.tubes_expected) == (2, 2)
    assert Bag.objects.get(barcode="MB-1").received_at is not None
    assert Bag.objects.get(barcode="MB-2").received_at is None
    log = ChangeLog.objects.filter(object_type="testing.box").latest("id")
    assert log.changes["mismatch"][1]["missing"] == ["MB-2"]

    later = timezone.now() + dt.timedelta(hours=testing.round.receive_within + 1)
    late = custody_queries.overdue(testing.admin, testing.round, later)
    assert [b.barcode for b in late.unreceived] == ["MB-2"]
    assert "missing at the lab's receipt" in custody_queries.where_is(late.unreceived[0])
    trail = custody_queries.trail(testing.admin, Tube.objects.get(barcode="M-0002"))
    assert trail.steps[-1].what == "Bag missing at the lab's receipt" and trail.steps[-1].warn


def test_overdue_lists_each_step_late_in_the_user_s_area_only(testing):
    Round.objects.filter(pk=testing.round.pk).update(seal_within=1)  # the round's own limit
    testing.round.refresh_from_db()
    fill_tubes(testing, testing.stations[0], ["O-0001", "O-0002"])
    bag = services.bag_open(
        actor=testing.admin, round=testing.round, site=testing.sites[0], barcode="OB-1"
    )
    services.tube_pack(actor=testing.admin, bag=bag, barcode="O-0002")
    sealed = services.bag_open(
        actor=testing.admin, round=testing.round, site=testing.sites[0], barcode="OB-2"
    )
    other = fill_tubes(testing, testing.stations[2], ["O-0003"], offset=10)[0]
    services.tube_pack(actor=testing.admin, bag=sealed, barcode="O-0001")
    services.bag_seal(actor=testing.admin, bag=sealed, counted=1)

    now = timezone.now()
    assert custody_queries.overdue(testing.admin, testing.round, now).total == 0
    soon = custody_queries.overdue(testing.admin, testing.round, now + dt.timedelta(minutes=90))
    assert [t.barcode for t in soon.tubes] == [other.barcode]  # packed ones are not late
    assert [b.barcode for b in soon.open_bags] == ["OB-1"] and not soon.unreceived
    later = custody_queries.overdue(testing.admin, testing.round, now + dt.timedelta(hours=3))
    assert [b.barcode for b in later.unreceived] == ["OB-2"]
    # the chief of grid 2 sees the late tube of its own site only
    theirs = custody_queries.overdue(
        testing.tree.users["other_grid"], testing.round, now + dt.timedelta(hours=3)
    )
    assert [t.barcode for t in theirs.tubes] == [other.barcode]
    assert theirs.open_bags == [] and theirs.unreceived == []


def test_barcodes_are_normalised_and_never_shared_with_a_tube(testing, packed):
    with pytest.raises(DomainError, match="4 to 40"):
        services.bag_open(
            actor=testing.admin, round=testing.round, site=testing.sites[0], barcode="b!"
        )
    with pytest.raises(Conflict, match="already in use"):
        services.box_open(
            actor=testing.admin, round=testing.round, site=testing.sites[0], barcode="c-0001"
        )
    with pytest.raises(Conflict, match="another site"):
        services.bag_open(
            actor=testing.admin, round=testing.round, site=testing.sites[1], barcode=" b-0001 "
        )
    again = services.bag_open(
        actor=testing.admin, round=testing.round, site=testing.sites[0], barcode=" b-0001 "
    )
    assert again.pk == packed.pk
