"""The demo on the small known tree: a checkpoint and a gate per community with 30 days of
entries, every decision present, the board and the daily figure showing them."""

import random

from django.utils import timezone

from bastion.checkpoints import queries
from bastion.checkpoints.demo import build_demo
from bastion.checkpoints.models import Entry, Occupant, Passage
from bastion.people.mobilization.models import Place


def test_demo_checkpoint_and_gates(tree):
    now = timezone.now()
    counts = build_demo(tree.street, random.Random(7), now)
    assert (counts["checkpoints"], counts["gates"]) == (1, 2)
    assert counts["entries"] == Entry.objects.count() > 30 * 80  # ~110 vehicles a day
    assert set(Occupant.objects.values_list("decision", flat=True)) == {
        "pass", "escort", "turned_back", "quarantine", "fever_clinic"
    }  # fmt: skip
    days = {
        timezone.localtime(t).date() for t in Entry.objects.values_list("arrived_at", flat=True)
    }
    assert len(days) >= 30
    assert Passage.objects.filter(resident__isnull=True).exclude(purpose="").exists()
    place = Place.objects.get(kind="checkpoint")
    week = queries.checkpoint_days(place, timezone.localdate(now))
    assert all(line.people > 0 for line in week[1:])
    assert build_demo(tree.street, random.Random(7), now) == {}  # once
