"""The demo's testing set-up, built on the small known tree: 32 sites with 63 stations and
their staff, a finished round with results traced back, a round in progress."""

import random

from django.utils import timezone

from bastion.testing import queries
from bastion.testing.demo import build_demo
from bastion.testing.models import Result, Retest, Round, Scan, Site, SitePost, Station, Tube


def test_the_demo_builds_sites_staff_and_two_rounds(tree):
    now = timezone.now()
    counts = build_demo(tree.street, random.Random(1), now)

    assert counts["sampling_sites"] == Site.objects.count() == 32
    assert counts["sampling_stations"] == Station.objects.count() == 63
    sites = list(Site.objects.all())
    vacancies = queries.site_vacancies(sites)
    assert not any(v.leader for v in vacancies.values())
    assert all(v.heads == 2 for v in vacancies.values())
    assert SitePost.objects.filter(role="site_leader").count() == 32
    assert SitePost.objects.filter(role="station_head").count() == 64

    finished, running = Round.objects.order_by("starts_at")
    assert finished.ends_at < now < running.ends_at
    assert queries.round_state(running, now) == "running"
    # Every pooled tube has its result (single retest tubes may still wait for theirs).
    assert not Tube.objects.filter(round=finished, result="", kind="pool").exists()
    positives = Tube.objects.filter(round=finished, result=Result.POSITIVE)
    assert positives.count() == 3
    traced = queries.traceback(tree.users["admin"], positives.first())
    assert traced.people == positives.first().filled and traced.buildings
    assert Retest.objects.filter(round=finished).count() == sum(t.filled for t in positives)
    assert Scan.objects.filter(round=finished, voided_at__isnull=False).exists()  # invalid

    cov = queries.coverage(tree.users["admin"], running, tree.street).totals
    assert 0 < cov["sampled"] < cov["expected"]
    assert Tube.objects.filter(round=running, status="open").exists()
