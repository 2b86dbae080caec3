"""The demo on the small known tree: a hotel of 120 rooms with 30 days of arrivals (from the
checkpoint's hand-overs too), releases handed home, transfers, incidents and checks."""

import random

from django.utils import timezone

from bastion.checkpoints.demo import build_demo as checkpoints_demo
from bastion.checkpoints.models import Occupant
from bastion.quarantine import queries
from bastion.quarantine.demo import build_demo
from bastion.quarantine.models import HealthCheck, Room, Stay, StayIncident


def test_demo_hotel(tree):
    now = timezone.now()
    checkpoints_demo(tree.street, random.Random(7), now)
    counts = build_demo(tree.street, random.Random(7), now)
    assert Room.objects.count() == counts["rooms"] == 120
    assert counts["admitted"] == Stay.objects.count() > 30 * 3
    assert set(Stay.objects.values_list("source", flat=True)) >= {"checkpoint", "returnee"}
    assert set(Stay.objects.values_list("state", flat=True)) == {"in", "released", "transferred"}
    assert Stay.objects.filter(handed_over_at__isnull=False).exists()
    assert StayIncident.objects.exists() and HealthCheck.objects.count() > 1000
    received = Occupant.objects.filter(received_at__isnull=False).count()
    assert received == Stay.objects.filter(source="checkpoint").count() > 0
    place = Stay.objects.first().place
    board = queries.board(place, timezone.localdate(now), "am")
    assert board.people == Stay.objects.filter(state="in").count() > 0
    assert build_demo(tree.street, random.Random(7), now) == {}  # once
