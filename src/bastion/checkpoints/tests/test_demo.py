"""The demo on the small known tree: a checkpoint and a gate per community with 30 days of
entries, every decision present, the board and the daily figure showing them."""

import random

from django.utils import timezone

from bastion.checkpoints import queries
from bastion.checkpoints.demo import build_demo
from bastion.checkpoints.loop.models import LoopPass
from bastion.checkpoints.models import Entry, Occupant, Passage
from bastion.checkpoints.station.models import StationVisit
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
    # Closed-loop passes confirmed, on the way and overdue; the station's 30 days of visits.
    passes = LoopPass.objects.all()
    assert counts["loop_passes"] == passes.count() > 30
    assert passes.filter(arrived_at__isnull=False).count() == counts["loop_confirmed"] > 20
    waiting = passes.filter(arrived_at__isnull=True)
    assert waiting.filter(due_at__gt=now).count() >= 2  # on the way
    assert waiting.filter(due_at__lte=now, escalated_at__isnull=False).count() >= 2  # overdue
    visits = StationVisit.objects.all()
    assert counts["station_visits"] == visits.count() > 30 * 10
    days = {timezone.localtime(t).date() for t in visits.values_list("arrived_at", flat=True)}
    assert len(days) >= 29
    assert visits.filter(tested=True, result_at__isnull=False).exists()
    assert visits.filter(loop_pass__isnull=False).exists()
    assert build_demo(tree.street, random.Random(7), now) == {}  # once
