"""The demo's control areas, the round in progress packed by them, and its deadline, built on
the small known tree after the testing demo."""

import random
from collections import Counter

from bastion.incidents.models import ControlArea
from bastion.testing.demo.pooling import build_demo
from bastion.testing.rounds.models import Round
from bastion.testing.rounds.pooling import TubePooling, need
from bastion.testing.rounds.projection import deadline_projection
from bastion.testing.scans.batch import _Person
from bastion.testing.scans.models import Scan, ScanKind, Tube


def test_the_demo_seals_controls_and_packs_the_round_by_level(tree, testing_demo):
    now = testing_demo.now  # the testing demo is there, built at this time
    counts = build_demo(tree.street, random.Random(2), now)
    running = Round.objects.get(starts_at__lte=now, ends_at__gte=now)

    active = dict(ControlArea.objects.filter(lifted_at__isnull=True).values_list("level", "node"))
    assert set(active) == {"sealed", "controlled", "precaution"}
    assert ControlArea.objects.filter(lifted_at__isnull=False).count() == 1
    assert counts["control_areas"] == 4 and counts["scans_repacked"] > 0

    # Every scan of the running round sits in the tube its resident's level needs.
    scans = list(
        Scan.objects.filter(round=running, kind=ScanKind.RESIDENT).select_related(
            "tube", "resident"
        )
    )
    people = [
        _Person(
            s.resident_id,
            "",
            "",
            tuple(
                s.resident.__dict__[f"{lv}_id"]
                for lv in ("city", "district", "street", "community", "grid", "building", "unit")
            ),
        )
        for s in scans
    ]
    pooling = TubePooling(people)
    kinds = Counter()
    for scan, person in zip(scans, people, strict=True):
        level = pooling.level_of(person)
        want = need(running, level)
        assert scan.tube.kind == want.kind, (level, scan.tube.barcode)
        if want.kind == "household":
            assert scan.tube.household_id == scan.resident.household_id
        else:
            assert scan.tube.capacity == want.capacity
        kinds[level] += 1
    assert kinds["sealed"] and kinds["controlled"] and kinds["precaution"] and kinds[None]
    for tube in Tube.objects.filter(round=running):
        assert tube.filled == Scan.objects.filter(tube=tube).count() > 0

    # A deadline within the round, with buildings projected to miss it (on this small tree
    # most of its 32 sites serve no building; the demo street's own test checks "a few").
    assert now < running.deadline < running.ends_at
    late = deadline_projection(tree.users["admin"], running, tree.street, now)
    assert late.late_total > 0
    assert all(b.units for b in late.buildings)
