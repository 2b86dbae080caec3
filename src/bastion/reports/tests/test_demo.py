"""The demo's two weeks of reports: frozen days with late and missing grids, today live."""

import datetime as dt
import random

from bastion.reports import queries, registry
from bastion.reports.demo import PAST_DAYS, build_demo
from bastion.reports.models import DailyFigure, GridReport, ReportDay
from bastion.reports.tests.helpers import at
from bastion.reports.tests.test_rollup import assert_rollup

TODAY = dt.date(2026, 11, 20)


def test_two_weeks_of_reports(tree):
    counts = build_demo(tree.street, random.Random(7), TODAY)
    assert counts["report_days"] == PAST_DAYS + 1 and counts["frozen_days"] == PAST_DAYS
    assert counts["on_time"] + counts["late"] + counts["missing"] == PAST_DAYS * 4
    days = list(ReportDay.objects.order_by("day").values_list("day", "frozen_at"))
    assert [d for d, _f in days] == [TODAY - dt.timedelta(days=n) for n in range(PAST_DAYS, -1, -1)]
    assert all(f is not None for _d, f in days[:-1]) and days[-1][1] is None
    late = GridReport.objects.filter(late=True)
    assert late.count() == counts["late"]
    assert all(r.submitted_at > at(r.day, 20) for r in late)
    missing = GridReport.objects.filter(day__lt=TODAY, submitted_at__isnull=True).count()
    assert missing == counts["missing"]
    assert counts["figure_rows"] == DailyFigure.objects.count()

    admin = tree.users["admin"]
    trend = queries.figure_trend(admin, tree.street, TODAY)
    assert trend["series"]["residents"] == [128] * 14
    for day in (TODAY - dt.timedelta(days=3), TODAY):
        assert_rollup(admin, tree.city, day)

    # Deterministic: the same seed gives the same submissions.
    again = build_demo(tree.street, random.Random(7), TODAY)
    assert {k: again[k] for k in ("on_time", "late", "missing")} == {
        k: counts[k] for k in ("on_time", "late", "missing")
    }


def test_the_demo_works_with_the_foundations_figures_alone(tree):
    saved = [m for m in registry.modules() if m.name != "geo"]
    for module in saved:
        registry.unregister(module.name)
    try:
        counts = build_demo(tree.street, random.Random(1), TODAY)
        assert set(DailyFigure.objects.values_list("key", flat=True)) == {
            "households",
            "residents",
            "aged",
            "immobile",
        }
        assert counts["figure_rows"] == 4 * 4 * (PAST_DAYS + 1)
    finally:
        for m in saved:
            registry.register(
                module=m.name, figures=list(m.figures), compute=m.compute, order=m.order
            )
