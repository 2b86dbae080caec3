"""`bastion bench checkpoints` at its smallest: one batch of each through the API, every
item accepted and stored, the plain insert rolled back."""

from bastion.checkpoints import bench
from bastion.checkpoints.models import Entry, Occupant, Passage


def test_the_bench_writes_through_the_api_and_leaves_the_plain_rows_out(db):
    figures = bench.bench_measure(**bench.bench_build(), batches=1)
    assert (figures["entry_people"], figures["gate_people"]) == (2 * bench.BATCH, bench.BATCH)
    # a warm-up batch and the timed one of each; the plain insert's rows rolled back
    assert Entry.objects.count() == 2 * bench.BATCH
    assert Occupant.objects.count() == 4 * bench.BATCH
    assert Passage.objects.count() == 2 * bench.BATCH
    assert figures["entry_people_per_s"] > 0 and figures["entry_raw_people_per_s"] > 0
