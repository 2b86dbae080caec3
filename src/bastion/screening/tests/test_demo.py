"""The demo's screening data, built on the small tree: a campaign in progress and fourteen
daily pharmacy lists, consistent with the daily figures."""

import datetime as dt
import random

from bastion.screening.demo import DAYS, build_demo
from bastion.screening.models import (
    Callback,
    CallList,
    CallRow,
    CampaignHousehold,
    Finding,
    FollowUp,
    Visit,
)
from bastion.screening.queries import daily_figures


def test_demo_builds_a_campaign_in_progress_with_two_weeks_of_history(tree, today):
    counts = build_demo(tree.street, random.Random(7), today)
    assert counts["campaign_households"] == CampaignHousehold.objects.count() == 64
    assert (
        sum(counts[f"households_{s}"] for s in ("not_yet", "reached", "not_reachable", "away"))
        == 64
    )
    assert counts["households_reached"] > 40
    assert (Visit.objects.count(), Finding.objects.count()) == (
        counts["visits"],
        counts["findings"],
    )
    assert CallList.objects.count() == DAYS
    assert CallRow.objects.count() == counts["call_rows"]
    assert Callback.objects.count() == CallRow.objects.filter(status="matched").count()
    assert FollowUp.objects.count() == (
        counts["follow_ups_from_visits"] + counts["follow_ups_from_callbacks"]
    )

    grids = [g.pk for g in tree.grids]
    now = daily_figures(today, grids).values()
    assert sum(f["households_screened"] for f in now) == (
        counts["households_reached"] + counts["households_away"]
    )
    assert sum(f["households_left"] for f in now) == (
        counts["households_not_yet"] + counts["households_not_reachable"]
    )
    assert sum(f["callbacks_done"] for f in now) == counts["callbacks_done"]
    # The campaign grew day by day: screened is cumulative and started 13 days ago.
    screened = [
        sum(
            f["households_screened"]
            for f in daily_figures(today - dt.timedelta(days=n), grids).values()
        )
        for n in range(DAYS, -1, -1)
    ]
    assert screened[0] == 0 and screened == sorted(screened) and screened[-1] > screened[1]
