"""The demo's testing set-up, built on the small known tree: 32 sites with 63 stations and
their staff, a finished round with results traced back, a round in progress."""

from bastion.geo.models import DocKind, Resident
from bastion.testing.results import queries as result_queries
from bastion.testing.results.models import Retest
from bastion.testing.rounds import coverage as round_coverage
from bastion.testing.rounds import queries as round_queries
from bastion.testing.rounds.models import Round, Site, SitePost, Station
from bastion.testing.scans.models import Result, Scan, Tube


def test_the_demo_builds_sites_staff_and_two_rounds(tree, testing_demo):
    now, counts = testing_demo.now, testing_demo.counts

    assert counts["sampling_sites"] == Site.objects.count() == 32
    assert counts["sampling_stations"] == Station.objects.count() == 63
    sites = list(Site.objects.all())
    vacancies = round_queries.site_vacancies(sites)
    assert not any(v.leader for v in vacancies.values())
    assert all(v.heads == 2 for v in vacancies.values())
    assert SitePost.objects.filter(role="site_leader").count() == 32
    assert SitePost.objects.filter(role="station_head").count() == 64

    finished, running = Round.objects.order_by("starts_at")
    assert finished.ends_at < now < running.ends_at
    assert round_queries.round_state(running, now) == "running"
    # Every pooled tube has its result (single retest tubes may still wait for theirs).
    assert not Tube.objects.filter(round=finished, result="", kind="pool").exists()
    positives = Tube.objects.filter(round=finished, result=Result.POSITIVE)
    assert positives.count() == 3
    traced = result_queries.traceback(tree.users["admin"], positives.first())
    assert traced.people == positives.first().filled and traced.buildings
    assert Retest.objects.filter(round=finished).count() == sum(t.filled for t in positives)
    assert Scan.objects.filter(round=finished, voided_at__isnull=False).exists()  # invalid

    cov = round_coverage.coverage(tree.users["admin"], running, tree.street).totals
    assert 0 < cov["sampled"] < cov["expected"]
    assert Tube.objects.filter(round=running, status="open").exists()


def test_the_demo_has_people_without_a_plain_id_and_family_and_manual_scans(testing_demo):
    counts = testing_demo.counts
    _finished, running = Round.objects.order_by("starts_at")

    kinds = set(Resident.objects.values_list("doc_kind", flat=True))
    assert kinds == {k.value for k in DocKind}  # every document kind, and children without
    assert counts["residents_with_other_documents"] == 12
    children = Resident.objects.filter(doc_kind=DocKind.NONE)
    assert children.count() == counts["children_under_guardian"] == 8
    assert all(c.guardian.household_id == c.household_id for c in children)
    assert all(c.age < 18 <= c.guardian.age for c in children)
    elders = Resident.objects.filter(no_phone=True)
    assert elders.count() == counts["elders_without_phone"] > 0
    assert all(e.phone == "" and e.age >= 70 for e in elders)
    assert Resident.objects.exclude(registered_address="").count() == 40

    # Family codes: each household's members at home in one tube, one scan each.
    family_tubes = Tube.objects.filter(round=running, barcode__startswith="FAM")
    assert family_tubes.count() == counts["family_scans"] == 3
    for tube in family_tubes:
        households = set(
            Scan.objects.filter(tube=tube).values_list("resident__household_id", flat=True)
        )
        assert len(households) == 1 and tube.filled >= 2
        assert children.filter(household_id__in=households).exists()
    manual = Scan.objects.filter(round=running, manual=True)
    assert manual.count() == counts["manual_scans"] == 2
    assert {s.resident.doc_kind for s in manual} == {DocKind.PASSPORT}
