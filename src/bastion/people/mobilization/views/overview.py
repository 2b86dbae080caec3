"""The mobilization overview: the section's figures for a node."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from bastion.people.mobilization import queries
from bastion.people.mobilization.models import (
    ReportInStatus,
    mobilization_setting,
)
from bastion.people.mobilization.views.common import node_asked, section_context


@login_required
def overview(request):
    node = node_asked(request)
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    cover = queries.extra_cadres(request.user, node, day=today)
    places = list(queries.places_under(request.user, node))
    figures = queries.place_figures(places)  # each place's duty day: a night shift counts
    gaps = queries.roster_gaps(request.user, node, tomorrow)
    teams = queries.team_counts(request.user, node)[0]["counts"]
    context = {
        **section_context(request, node, "mobilization"),
        "pool": queries.pool_summary(request.user, node, today),
        "deployed": queries.deployments_under(request.user, node, day=today).count(),
        "communities": len(cover),
        "short": [c for c in cover if c.short],
        "minimum": mobilization_setting("BASTION_MIN_EXTRA_CADRES"),
        "places": len(places),
        "checked_in": sum(f["checked_in"] for f in figures.values()),
        "rostered": sum(f["rostered"] for f in figures.values()),
        "gaps": len(gaps),
        "tomorrow": tomorrow,
        "pending": queries.report_ins_under(
            request.user, node, status=ReportInStatus.PENDING
        ).count(),
        "teams": sum(t for t, _m in teams.values()),
        "members": sum(m for _t, m in teams.values()),
        "led": list(queries.places_led(request.user)),
        "my_duties": queries.my_duties(request.user),
    }
    return render(request, "people/mobilization/overview.html", context)
