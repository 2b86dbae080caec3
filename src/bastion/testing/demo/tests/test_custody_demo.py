"""The demo's chain of custody, on the small known tree: the finished round wholly received
(one receipt short by a tube), the round in progress in every state, with something overdue
at each step; every trail in order."""

import datetime as dt
import random

import pytest
from django.utils import timezone, translation

from bastion.testing.custody import queries as custody_queries
from bastion.testing.custody.models import Bag, BagTube, Box, BoxReceipt
from bastion.testing.demo.custody import round_custody
from bastion.testing.demo.rounds import build_demo
from bastion.testing.rounds.models import Round
from bastion.testing.scans.models import Scan, Tube


@pytest.fixture(autouse=True)
def english():
    """The services' texts in English, whatever an earlier test's request activated."""
    with translation.override("en"):
        yield


def test_the_demo_shows_every_shape_of_the_chain(tree):
    now = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(14, 30)))
    counts = build_demo(tree.street, random.Random(1), now)
    finished, running = Round.objects.order_by("starts_at")
    assert counts["custody_bags"] == Bag.objects.count() > 0

    # The finished round: every closed tube packed, every bag sealed, boxed and received.
    closed = Tube.objects.filter(round=finished, status="closed")
    assert BagTube.objects.filter(tube__round=finished).count() == closed.count()
    assert not Bag.objects.filter(round=finished, received_at__isnull=True).exists()
    assert set(Box.objects.filter(round=finished).values_list("status", flat=True)) == {"received"}
    assert BoxReceipt.objects.filter(box__round=finished, mismatch=True).count() == 1

    # The round in progress. The small tree fills no tube of it: its stations close their
    # tubes, each at its last scan, and the round's custody is drawn over them.
    assert not Bag.objects.filter(round=running).exists()
    for tube in Tube.objects.filter(round=running):
        last = Scan.objects.filter(tube=tube).latest("at").at
        Tube.objects.filter(pk=tube.pk).update(status="closed", closed_at=last)
    round_custody(random.Random(2), now, running)
    # bags open and sealed, boxes at sites, in transport, received
    bags = Bag.objects.filter(round=running)
    assert bags.filter(status="open").exists() and bags.filter(status="sealed").exists()
    boxes = set(Box.objects.filter(round=running).values_list("status", flat=True))
    assert boxes == {"open", "in_transit", "received"}
    late = custody_queries.overdue(tree.users["admin"], running, now)
    assert late.tubes_total and late.open_bags_total and late.unreceived_total
    assert custody_queries.overdue(tree.users["admin"], finished, now).total == 0

    # Trails are in time order, and a finished tube's runs to its result.
    tube = closed.filter(result="negative").order_by("pk").first()
    trail = custody_queries.trail(tree.users["admin"], tube)
    times = [s.at for s in trail.steps]
    assert times[:-1] == sorted(times[:-1]) and trail.next_step == ""
    assert [s.what for s in trail.steps][-2:] == ["Received by the lab", "Lab result"]
    for bag in bags.filter(status="sealed", box__isnull=False)[:20]:
        assert bag.created_at <= bag.sealed_at <= bag.boxed_at <= now
