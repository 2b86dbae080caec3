"""Mass-testing pages: rounds with coverage per child node, the missing list, home visits,
retests, the traceback of a tube, throughput, sites with their printable plan, and the
printable resident codes of a unit. Thin: reads in `testing.queries`, writes in
`testing.services`; every row fetched through the scope (outside it is a 404)."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.core.scope import get_scoped_or_404
from bastion.geo.models import Household, Node, Resident
from bastion.testing import queries, response, services
from bastion.testing.codes import family_code, resident_code
from bastion.testing.models import Result, RetestState, Round, StationKind, TubeKind
from bastion.testing.projection import deadline_projection

MISSING_SHOWN = 2000


def _node_id(request) -> int | None:
    raw = request.GET.get("node", "")
    return int(raw) if raw.isdigit() else None


def _crumbs(user, round_: Round, node: Node) -> list[Node]:
    """The path from the round's area (or the highest node the user sees) down to `node`."""
    if not node.path.startswith(round_.node.path):
        return [node]
    chain = [n for n in node.ancestors() if n.path.startswith(round_.node.path)] + [node]
    visible = set(
        Node.objects.restrict(user)
        .filter(pk__in=[n.pk for n in chain])
        .values_list("pk", flat=True)
    )
    return [n for n in chain if n.pk in visible]


def _can_change(user, obj) -> bool:
    return scope.can(user, scope.CHANGE, obj)


@login_required
def index(request):
    rounds = list(queries.rounds_for(request.user)[:100])
    now = timezone.now()
    return render(
        request,
        "testing/index.html",
        {
            "tab": "rounds",
            "rounds": [(r, queries.round_state(r, now)) for r in rounds],
        },
    )


@login_required
def round_detail(request, round_id: int):
    round_ = queries.round_for(request.user, round_id)
    node = queries.area_node(request.user, round_, _node_id(request))
    cov = queries.coverage(request.user, round_, node)
    chiefs = {}
    if cov.children and cov.children[0][0].level == "grid":
        chiefs = queries.chiefs_of([kid.pk for kid, _f in cov.children])
    state = queries.round_state(round_)
    late = deadline_projection(request.user, round_, node) if state != "planned" else None
    return render(
        request,
        "testing/round.html",
        {
            "tab": "rounds",
            "round": round_,
            "state": state,
            "node": node,
            "crumbs": _crumbs(request.user, round_, node),
            "coverage": cov,
            "projection": late,
            "children": [(kid, f, chiefs.get(kid.pk)) for kid, f in cov.children],
            "positives": list(queries.positive_tubes(request.user, round_)[:50]),
            "can_import": _can_change(request.user, round_),
        },
    )


@login_required
def missing(request, round_id: int):
    round_ = queries.round_for(request.user, round_id)
    node = queries.area_node(request.user, round_, _node_id(request))
    units, total = queries.missing_list(request.user, round_, node, limit=MISSING_SHOWN)
    return render(
        request,
        "testing/missing.html",
        {
            "tab": "rounds",
            "round": round_,
            "node": node,
            "crumbs": _crumbs(request.user, round_, node),
            "units": units,
            "total": total,
            "shown": sum(u.count for u in units),
            "excluded": list(queries.excluded_residents(request.user, round_, node)),
        },
    )


@login_required
def home_visits(request, round_id: int):
    round_ = queries.round_for(request.user, round_id)
    node = queries.area_node(request.user, round_, _node_id(request))
    units = queries.home_visits(request.user, round_, node)
    teams = list(queries.stations_for(request.user).filter(kind=StationKind.HOME))
    return render(
        request,
        "testing/home_visits.html",
        {
            "tab": "rounds",
            "round": round_,
            "node": node,
            "crumbs": _crumbs(request.user, round_, node),
            "units": units,
            "total": sum(u.count for u in units),
            "teams": teams,
        },
    )


@login_required
def retests(request, round_id: int):
    round_ = queries.round_for(request.user, round_id)
    node = queries.area_node(request.user, round_, _node_id(request))
    rows = response.with_state(queries.retests(request.user, round_, node))
    state = request.GET.get("state", "")
    if state in RetestState.values:
        rows = rows.filter(state=state)
    return render(
        request,
        "testing/retests.html",
        {
            "tab": "rounds",
            "round": round_,
            "node": node,
            "crumbs": _crumbs(request.user, round_, node),
            "retests": list(rows),
            "state": state,
            "states": RetestState.choices,
            "response": response.round_response(
                request.user, round_, queries.positive_tubes(request.user, round_)
            ),
        },
    )


@login_required
def throughput(request, round_id: int):
    round_ = queries.round_for(request.user, round_id)
    return render(request, "testing/throughput.html", {"tab": "rounds", "round": round_})


@login_required
def throughput_data(request, round_id: int):
    """The chart's data as JSON (the same as GET /api/v1/testing/rounds/{id}/throughput)."""
    round_ = queries.round_for(request.user, round_id)
    return JsonResponse(queries.throughput(request.user, round_))


@login_required
def results_import(request, round_id: int):
    """Upload a lab's result file: all or nothing, every bad row listed."""
    round_ = queries.round_for(request.user, round_id)
    if not _can_change(request.user, round_):
        raise PermissionDenied
    problems = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise DomainError(_("Choose a file."), field="file")
            rows = services.result_rows_read(filename=upload.name, content=upload.read())
            batch = services.results_import(
                actor=request.user, round=round_, rows=rows, filename=upload.name
            )
        except DomainError as e:
            problems = e.problems
        else:
            messages.success(
                request,
                _("%(n)s tubes resulted: %(p)s positive, %(i)s invalid.")
                % {"n": batch.tubes, "p": batch.positive, "i": batch.invalid},
            )
            return redirect("testing:round", round_.pk)
    return render(
        request,
        "testing/results_import.html",
        {
            "tab": "rounds",
            "round": round_,
            "problems": problems,
        },
    )


@login_required
def tube(request, tube_id: int):
    """The traceback of a tube: its people, their homes and the chiefs to call."""
    found = queries.tube_for(request.user, tube_id)
    tb = queries.traceback(request.user, found)
    pool = None
    if found.result == Result.POSITIVE and found.kind != TubeKind.SINGLE:
        [pool] = response.pool_responses(request.user, [found])
    return render(
        request,
        "testing/tube.html",
        {
            "tab": "rounds",
            "tube": found,
            "tb": tb,
            "pool": pool,
            "round_response": response.round_response(
                request.user, found.round, queries.positive_tubes(request.user, found.round)
            )
            if pool
            else None,
        },
    )


@login_required
def tube_find(request):
    barcode = request.GET.get("barcode", "").strip()
    if not barcode:
        raise Http404
    return redirect("testing:tube", queries.tube_by_barcode(request.user, barcode).pk)


@login_required
def sites(request):
    rows = list(queries.sites_for(request.user).order_by("node__path", "name"))
    vacancies = queries.site_vacancies(rows)
    counts = {s.pk: 0 for s in rows}
    for st in queries.stations_for(request.user).filter(site__in=rows):
        counts[st.site_id] = counts.get(st.site_id, 0) + 1
    return render(
        request,
        "testing/sites.html",
        {
            "tab": "sites",
            "sites": [(s, counts[s.pk], vacancies[s.pk]) for s in rows],
        },
    )


@login_required
def site_plan(request, site_id: int):
    site = queries.site_for(request.user, site_id)
    return render(
        request,
        "testing/site_plan.html",
        {
            "tab": "sites",
            "plan": queries.site_plan(request.user, site),
        },
    )


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
    from bastion.testing.api import station_state_out  # the API's own answer, embedded

    found = queries.station_for(request.user, station_id)
    state = station_state_out(found)
    return render(
        request,
        "testing/station.html",
        {
            "tab": "sites",
            "station": found,
            "state": state,
            "can_scan": _can_change(request.user, found),
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
    }


@login_required
@require_POST
def station_toggle(request, station_id: int):
    """Open a station for a round, or close it (from the site plan)."""
    station = get_scoped_or_404(
        queries.stations_for(request.user), request.user, scope.CHANGE, pk=station_id
    )
    try:
        if request.POST.get("round"):
            round_ = queries.round_for(request.user, int(request.POST["round"]))
            services.station_open(actor=request.user, station=station, round=round_)
        else:
            services.station_close(actor=request.user, station=station)
    except (DomainError, ValueError) as e:
        messages.error(request, str(e))
    if station.site_id:
        return redirect("testing:site", station.site_id)
    return redirect("testing:index")
