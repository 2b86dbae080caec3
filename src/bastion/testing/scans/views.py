"""The station page (scanning on a phone or a handheld) and the printable resident codes of a
unit."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.core.scope import get_scoped_or_404
from bastion.geo.models import Household, Node, Resident
from bastion.testing.rounds import queries as round_queries
from bastion.testing.rounds import services as round_services
from bastion.testing.rounds.views import can_change
from bastion.testing.scans.codes import family_code, resident_code


@login_required
def codes(request, node_id: int):
    """Resident codes of a unit (or one household with ?household=) to print and hand out."""
    node = get_scoped_or_404(Node, request.user, pk=node_id)
    if node.level != "unit":
        raise Http404
    households = Household.objects.restrict(request.user).filter(unit_id=node.pk)
    if (household_id := request.GET.get("household", "")).isdigit():
        households = households.filter(pk=int(household_id))
    residents = (
        Resident.objects.restrict(request.user)
        .filter(household__in=households)
        .select_related("household")
        .order_by("household__floor", "household__room", "pk")
    )
    cards: list[tuple[Household, list[tuple[Resident, str]]]] = []
    for r in residents:
        if not cards or cards[-1][0].pk != r.household_id:
            cards.append((r.household, []))
        cards[-1][1].append((r, resident_code(r.pk)))
    cards_with_family = [(h, members, family_code(h.pk)) for h, members in cards]
    return render(
        request,
        "testing/codes.html",
        {
            "node": node,
            "building": node.building,
            "cards": cards_with_family,
            "codes_json": json.dumps([code for _h, rs in cards for _r, code in rs]),
        },
    )


@login_required
def station(request, station_id: int):
    """The station page: one input for a USB barcode scanner, the current tube's fill, the
    last scans and counts per hour. It scans through the API (batch endpoint) from a queue
    kept in the browser, so it goes on working when the link drops."""
    from bastion.testing.scans.api import station_state_out  # the API's own answer, embedded

    found = round_queries.station_for(request.user, station_id)
    state = station_state_out(found)
    return render(
        request,
        "testing/station.html",
        {
            "tab": "sites",
            "station": found,
            "state": state,
            "can_scan": can_change(request.user, found),
            "strings": _station_strings(),
        },
    )


def _station_strings() -> dict[str, str]:
    """The station page's texts for its script, translated here (%s: a number or name)."""
    return {
        "waiting": _("%s waiting to sync"),
        "synced": _("All synced"),
        "syncing": _("Syncing…"),
        "offline": _("Offline — scans are kept on this device"),
        "no_tube": _("Scan a tube barcode first."),
        "tube_opened": _("Tube %s"),
        "in_tube": _("Already sampled, in tube %s"),
        "tube_full": _("Tube is full — scan a new tube."),
        "refused": _("Refused"),
        "waiting_one": _("waiting"),
        "close_tube_confirm": _(
            "%s scans are not synced yet. Close anyway? They stay on this device and sync later."
        ),
        "close_station_confirm": _(
            "%s scans are not synced yet. Close the station anyway? They stay on this device."
        ),
        "leave_warning": _("Scans are not synced yet."),
        "station_closed": _("Station closed."),
        "tube_closed": _("Tube %s closed."),
        "error": _("Could not reach the server (%s)."),
        "no_match": _("Nobody found in this round's area."),
        "under_guardian": _("under %s"),
        "sample": _("Sample"),
        "sampled": _("Sampled"),
        "manual": _("by hand"),
        "not_a_tube": _(
            "%(code)s is neither a tube barcode of this round nor a resident's code: "
            "check it and scan again."
        ),
        "half_full_confirm": _(
            "Tube %(tube)s holds %(filled)s of %(capacity)s. Open tube %(next)s anyway? "
            "%(tube)s stays open: scan it again to go back to it."
        ),
        "retest_offer": _("%(name)s is on the retest list: sample them in a single tube."),
        "scan_single": _("Scan a new single tube for %(name)s."),
        "retested": _("%(name)s retested in single tube %(tube)s; back on the pooled tube."),
        "set_aside": _("Set aside, the server cannot take it (%s). Scan it again or report it."),
    }


@login_required
@require_POST
def station_toggle(request, station_id: int):
    """Open a station for a round, or close it (from the site plan)."""
    station = get_scoped_or_404(
        round_queries.stations_for(request.user), request.user, scope.CHANGE, pk=station_id
    )
    try:
        if request.POST.get("round"):
            round_ = round_queries.round_for(request.user, int(request.POST["round"]))
            round_services.station_open(actor=request.user, station=station, round=round_)
        else:
            round_services.station_close(actor=request.user, station=station)
    except (DomainError, ValueError) as e:
        messages.error(request, str(e))
    if station.site_id:
        return redirect("testing:site", station.site_id)
    return redirect("testing:index")
