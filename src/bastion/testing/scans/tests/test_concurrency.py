"""The scan rules under 8 concurrent writers, each a thread with its own database connection:
no pool overfilled, no resident counted twice, no acknowledged scan lost, retries replayed.

Only meaningful on PostgreSQL (row locks, concurrent unique-index checks): SQLite serialises
writers, so there is no race to test. `make test` runs it in its PostgreSQL pass.
"""

import datetime as dt
import random
import threading
import uuid
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from bastion.accounts.testing import build_small_tree
from bastion.geo.models import Resident
from bastion.testing.rounds import services as round_services
from bastion.testing.scans import batch
from bastion.testing.scans.models import Scan, Tube
from bastion.testing.scans.services import scans_record

WRITERS = 8

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers race only on PostgreSQL (SQLite serialises writers); "
    "run with scripts/with-postgres",
)


def _writer(
    seed: int,
    station,
    people: list[Resident],
    barcodes: list[str],
    start,
    acknowledged: list,
    errors: list,
) -> None:
    """Scan everyone in a shuffled order in batches of 1–6, into the first tube not yet
    full; resend about a third of the batches (a device that lost the answer)."""
    rng = random.Random(seed)
    order = people[:]
    rng.shuffle(order)
    tube = 0
    try:
        start.wait()
        while order:
            size = rng.randint(1, 6)
            chunk, order = order[:size], order[size:]
            items = [
                batch.ScanInput(
                    client_id=uuid.UUID(int=rng.getrandbits(128)),
                    tube=barcodes[tube],
                    code=r.id_number,
                )
                for r in chunk
            ]
            for attempt in range(2 if rng.random() < 0.35 else 1):
                outcomes = scans_record(actor=None, station=station, items=items)
                for item, out in zip(items, outcomes, strict=True):
                    if out.status in ("accepted", "replayed"):
                        acknowledged.append((item.client_id, out.tube, out.resident_id, attempt))
                    elif out.reason in ("tube_full", "tube_closed"):
                        order.append(next(r for r in chunk if r.id_number == item.code))
                    else:
                        assert out.reason == "already_sampled", out
                if any(o.reason in ("tube_full", "tube_closed") for o in outcomes):
                    tube = min(tube + 1, len(barcodes) - 1)
    except Exception as e:  # reported to the main thread
        errors.append(e)
    finally:
        connection.close()


def _set_up():
    tree = build_small_tree()
    now = timezone.now()
    round_ = round_services.round_open(
        actor=None,
        node=tree.street,
        name="并发轮",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=2),
        pool_size=5,
    )
    site = round_services.site_create(
        actor=None,
        node=tree.communities[0],
        name="并发点",
        address="广场",
        opens_at=dt.time(6),
        closes_at=dt.time(20),
    )
    station = round_services.station_add(actor=None, site=site, name="1号台")
    round_services.station_open(actor=None, station=station, round=round_)
    return tree, round_, station


@pytest.mark.django_db(transaction=True)
def test_eight_writers_never_overfill_double_count_or_lose_a_scan():
    tree, round_, station = _set_up()
    people = list(Resident.objects.order_by("pk"))  # 128, all contested by every writer
    barcodes = [f"C-{i:04d}" for i in range(60)]
    start = threading.Barrier(WRITERS)
    acknowledged: list = []
    errors: list = []
    threads = [
        threading.Thread(
            target=_writer, args=(seed, station, people, barcodes, start, acknowledged, errors)
        )
        for seed in range(WRITERS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []

    scans = list(
        Scan.objects.filter(round=round_).values_list("client_id", "tube__barcode", "resident_id")
    )
    # No resident counted twice, and everyone sampled.
    per_resident = Counter(resident for _c, _t, resident in scans)
    assert max(per_resident.values()) == 1
    assert set(per_resident) == {r.pk for r in people}
    # No pool overfilled, and each tube's fill is its scans.
    per_tube = Counter(barcode for _c, barcode, _r in scans)
    for tube in Tube.objects.filter(round=round_):
        assert tube.filled == per_tube[tube.barcode] <= tube.capacity
        assert (tube.status == "closed") == (tube.filled == tube.capacity)
    # Every acknowledged scan is stored, in the tube it was acknowledged in.
    stored = {c: (t, r) for c, t, r in scans}
    for client_id, barcode, resident_id, _attempt in acknowledged:
        assert stored[client_id] == (barcode, resident_id)
    # Retried batches were replayed, not written again.
    assert len(scans) == len({c for c, _t, _r, _a in acknowledged})
    assert any(attempt == 1 for *_x, attempt in acknowledged)
    # Idempotent across writers too: the same batch from two threads at once.


@pytest.mark.django_db(transaction=True)
def test_the_same_batch_sent_by_eight_writers_at_once_is_written_once():
    tree, round_, station = _set_up()
    people = list(Resident.objects.order_by("pk"))[:40]
    items = [
        batch.ScanInput(client_id=uuid.uuid4(), tube=f"D-{i // 5:04d}", code=r.id_number)
        for i, r in enumerate(people)
    ]
    start = threading.Barrier(WRITERS)
    results: list = []
    errors: list = []

    def send():
        try:
            start.wait()
            results.append(scans_record(actor=None, station=station, items=items))
        except Exception as e:
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Scan.objects.count() == 40
    assert sorted(Tube.objects.values_list("filled", flat=True)) == [5] * 8
    statuses = Counter(o.status for outcomes in results for o in outcomes)
    assert statuses == {"accepted": 40, "replayed": 40 * (WRITERS - 1)}
