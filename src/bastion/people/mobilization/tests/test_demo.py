"""The mobilization demo on the small known tree (with cadres and a reserve made for it): what
it writes keeps every rule the services keep. The demo street's own figures (673 sent down
over 45 grids) are the lead's check over the built street."""

import datetime as dt
import random

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from bastion.geo.models import Household
from bastion.people import services as people_services
from bastion.people.mobilization import queries, services
from bastion.people.mobilization.demo import build_demo
from bastion.people.mobilization.models import (
    AllowanceLine,
    AllowanceMonth,
    Assignment,
    CheckEvent,
    Deployment,
    Place,
    ReportIn,
    Team,
)
from bastion.people.models import Organisation


@pytest.fixture
def staffed_street(tree):
    """Twenty cadres of a district bureau holding no post, and thirty reserve staff (half of
    them party members) in each community."""
    bureau = Organisation(name="测试区教育局", kind="government")
    bureau.locate(tree.district)
    bureau.save()
    households = list(Household.objects.filter(street=tree.street).order_by("pk"))
    for i in range(20):
        people_services.person_create(
            name=f"干部{i}",
            kind="cadre",
            phone=f"1360000{i:04d}",
            employer=bureau,
            home=households[i * 3 % len(households)],
        )
    for c, community in enumerate(tree.communities):
        homes = [h for h in households if h.community_id == community.pk]
        for i in range(30):
            person = people_services.person_create(
                name=f"储备{c}-{i}",
                kind="cadre",
                phone=f"1361{c}00{i:04d}",
                employer=bureau,
                party_member=i % 2 == 0,
                home=homes[i % len(homes)],
            )
            people_services.post_assign(person=person, role="reserve", node=tree.street)
    return tree


def test_the_demo_keeps_the_rules(staffed_street):
    tree = staffed_street
    today = timezone.localdate()
    counts = build_demo(tree.street, random.Random(5), today, sent_down=16)
    assert counts["sent_down"] == 16
    street = tree.users["street"]
    cover = queries.extra_cadres(street, tree.street)
    assert sum(c.cadres for c in cover) == 16 and not [c for c in cover if c.short]
    figures = queries.daily_figures(today, [g.pk for g in tree.grids])
    assert [figures[g.pk]["extra_cadres"] for g in tree.grids] == [4, 4, 4, 4]
    assert (
        Deployment.objects.filter(recalled_on__isnull=False).count()
        == counts["sent_down_recalled"]
        > 0
    )
    # Places of every kind, a week of rosters, nobody at two places or too long in a row.
    assert {
        k: counts[k]
        for k in ("guard_points", "checkpoints", "sampling_site_places", "quarantine_sites")
    } == {"guard_points": 8, "checkpoints": 2, "sampling_site_places": 2, "quarantine_sites": 1}
    assert Place.objects.count() == 13
    assert Assignment.objects.count() == counts["assignments"] > 0
    for a in Assignment.objects.select_related("person").order_by("pk")[:300]:
        assert services.duty_problems(a.person, a.starts_at, a.ends_at, exclude=[a.pk]) == []
    assert CheckEvent.objects.filter(kind="in").count() == counts["check_ins"] > 0
    assert not CheckEvent.objects.filter(at__gt=timezone.now()).exists()
    tomorrow = today + dt.timedelta(days=1)
    gaps = queries.roster_gaps(tree.users["admin"], tree.street, tomorrow)
    assert len([g for g in gaps if g.built]) == counts["gaps_tomorrow"] > 0
    # Report-ins, teams, a temporary branch at each sampling site.
    assert ReportIn.objects.count() == counts["report_ins"] > 0
    assert ReportIn.objects.filter(status="confirmed", person__isnull=True).count() == 0
    assert Team.objects.filter(kind="branch", place__kind="sampling_site").count() == 2
    assert all(t.organisation.temporary for t in Team.objects.filter(kind="branch"))
    # A closed month and an open one; the closed one cannot change.
    closed = AllowanceMonth.objects.get(status="closed")
    current = AllowanceMonth.objects.get(status="open")
    assert current.month == today.replace(day=1)
    assert AllowanceLine.objects.filter(month=current).exists()
    assert queries.month_ledger(closed)["total"] > 0
    with pytest.raises(IntegrityError), transaction.atomic():
        AllowanceLine.objects.filter(month=closed).update(amount=0)
    # Every row hangs on the street.
    assert not Place.objects.exclude(street=tree.street).exists()
    assert Organisation.objects.filter(temporary=True, street=tree.street).count() == 2
