"""The demo on the small known tree: a few dozen people at home with reports, some missed."""

import datetime as dt
import random

from django.utils import timezone

from bastion.quarantine.home import queries
from bastion.quarantine.home.demo import build_demo
from bastion.quarantine.home.models import HomeMeasure, HomeReport


def test_demo_people_at_home(tree):
    now = timezone.now()
    counts = build_demo(tree.street, random.Random(7), now)
    assert counts["measures"] == HomeMeasure.objects.count() >= 30
    assert {"isolation", "monitoring"} == set(HomeMeasure.objects.values_list("kind", flat=True))
    assert counts["reports"] == HomeReport.objects.count() > 100
    assert set(HomeReport.objects.values_list("reporter", flat=True)) == {"chief", "household"}
    since = timezone.localdate(now) - dt.timedelta(days=9)
    missed = queries.missed(tree.users["street"], since=since, at=now)
    assert len(missed) == counts["missed"] > 0
    assert build_demo(tree.street, random.Random(7), now) == {}  # once
