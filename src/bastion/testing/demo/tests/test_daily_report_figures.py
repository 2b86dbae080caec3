"""Issue 17 §4, the daily report complete: on the small tree with the demos of testing, the
control areas (the pooling demo), the transfers and two weeks of reports, the new figures —
testing's, the households under each control level, the people transferred — are there, each
equal to a count taken straight from the rows, and roll up from the grids to the city."""

import datetime as dt
import random

from django.db.models import Q
from django.utils import timezone

from bastion.geo.models import Household
from bastion.incidents.models import ControlArea
from bastion.incidents.transfers.demo import build_demo as transfers_demo
from bastion.incidents.transfers.models import Transfer
from bastion.reports import queries
from bastion.reports.demo import build_demo as reports_demo
from bastion.reports.tests.test_rollup import assert_rollup
from bastion.testing.demo.pooling import build_demo as pooling_demo
from bastion.testing.results.models import Retest
from bastion.testing.scans.models import Scan

NEW = (
    "tested_sampled", "tested_due", "tested_covered", "tested_positive", "retests_pending",
    "households_sealed", "households_controlled", "households_precaution", "transferred",
)  # fmt: skip


def _households_under(level: str) -> int:
    """Households whose strictest active area is `level`, counted straight from the areas."""
    rank = ("sealed", "controlled", "precaution")
    nodes = {lv: [] for lv in rank}
    for area in ControlArea.objects.filter(lifted_at__isnull=True).select_related("node"):
        nodes[area.level].append(area.node)

    def under(lv):
        q = Q(pk__in=[])
        for node in nodes[lv]:
            q |= Q(**{f"{node.level}_id": node.pk})
        return q

    stricter = Q(pk__in=[])
    for lv in rank[: rank.index(level)]:
        stricter |= under(lv)
    return Household.objects.filter(under(level)).exclude(stricter).count()


def test_the_new_figures_are_counted_and_roll_up(tree, testing_demo):
    now = testing_demo.now
    pooling_demo(tree.street, random.Random(2), now)
    transfers_demo(tree.street, random.Random(7), timezone.now())
    today = timezone.localdate()
    reports_demo(tree.street, random.Random(7), today)
    admin = tree.users["admin"]

    street = queries.day_totals(admin, tree.street, today)
    assert set(NEW) <= set(street)
    start = timezone.make_aware(dt.datetime.combine(today, dt.time()))
    end = start + dt.timedelta(days=1)
    assert street["tested_sampled"] == (
        Scan.objects.filter(at__gte=start, at__lt=end, retest=False, voided_at=None).count()
    )
    assert street["retests_pending"] == Retest.objects.filter(sampled_at=None).count()
    assert street["tested_covered"] > 0 and street["tested_due"] >= street["tested_covered"]
    for level in ("sealed", "controlled", "precaution"):
        assert street[f"households_{level}"] == _households_under(level) > 0, level
    assert (
        street["transferred"]
        == Transfer.objects.filter(departed_at__gte=start, departed_at__lt=end).count()
    )
    assert (
        sum(
            queries.day_totals(admin, tree.street, today - dt.timedelta(days=n))["transferred"]
            for n in range(6)
        )
        == Transfer.objects.exclude(departed_at=None).count()
    )

    for day in (today - dt.timedelta(days=3), today):
        assert_rollup(admin, tree.city, day)
