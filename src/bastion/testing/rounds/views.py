"""Mass-testing pages: rounds with coverage per child node, the missing list, home visits,
throughput, and sites with their printable plan. Thin: reads in the queries modules, writes
in the services; every row fetched through the scope (outside it is a 404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.core.sheets.responses import xlsx_response
from bastion.geo import queries as geo_queries
from bastion.geo.models import Node
from bastion.people import queries as people_queries
from bastion.testing.results import queries as result_queries
from bastion.testing.rounds import coverage, queries, services
from bastion.testing.rounds.exports import people_xlsx
from bastion.testing.rounds.forms import RoundForm, SiteForm, SitePlanForm, StationForm
from bastion.testing.rounds.models import (
    DEFAULT_DEADLINE,
    DEFAULT_TUBE_PATTERN,
    Round,
    Site,
    StationKind,
)

PAGE_SIZE = 300  # residents per page of the missing and home-visit lists


def people_page(request, rows):
    """One page of a place-ordered list of residents (`?page=`; the last page when past it)."""
    return Paginator(rows, PAGE_SIZE, allow_empty_first_page=True).get_page(request.GET.get("page"))


def wants_xlsx(request) -> bool:
    return request.GET.get("format") == "xlsx"


def people_export(rows, title: str, round_: Round, node: Node):
    """The whole list (every page) as an .xlsx ledger, numbers masked."""
    day = timezone.localdate(round_.starts_at).isoformat()
    return xlsx_response(people_xlsx(rows, title), f"{title}-{node.name}-{day}.xlsx")


def asked_node_id(request) -> int | None:
    raw = request.GET.get("node", "")
    return int(raw) if raw.isdigit() else None


def crumbs(user, round_: Round, node: Node) -> list[Node]:
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


def can_change(user, obj) -> bool:
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
            "can_open": round_areas(request.user).exists(),
        },
    )


# ------------------------------------------------------------- opening rounds and sites

ROUND_LEVELS = ("city", "district", "street", "community", "grid")


def round_areas(user):
    """Where the user may open a round: the areas they may change, a grid or larger (as the
    API's `POST /rounds` allows)."""
    return Node.objects.restrict(user, scope.CHANGE).filter(level__in=ROUND_LEVELS).order_by("path")


def site_areas(user):
    """Where the user may put a site: a street, community or grid they may change."""
    return (
        Node.objects.restrict(user, scope.CHANGE)
        .filter(level__in=("street", "community", "grid"))
        .order_by("path")
    )


class _DryRun(Exception):
    """Rolls back a write tried only to check it (the confirmation step)."""


def checked(write) -> DomainError | None:
    """Run a service and undo it: the refusal it would give (naming the field), or None when
    it would go through. The confirmation page shows what will be created only then."""
    try:
        with transaction.atomic():
            write()
            raise _DryRun
    except _DryRun:
        return None
    except DomainError as e:
        return e


@login_required
def round_new(request):
    """Open a round from the page: the form, then what will be created, then the round."""
    user = request.user
    areas = round_areas(user)
    if not areas.exists():
        raise PermissionDenied
    form = RoundForm(request.POST or None, nodes=areas)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def write():
            return services.round_open(
                actor=user,
                node=data["node"],
                name=data["name"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                deadline=data["deadline"],
                pool_size=data["pool_size"],
                controlled_pool_size=data["controlled_pool_size"],
                precaution_pool_size=data["precaution_pool_size"],
                sealed_tube=data["sealed_tube"],
                tube_pattern=data["tube_pattern"],
                pack_within=data["pack_within"],
                seal_within=data["seal_within"],
                receive_within=data["receive_within"],
                client_id=data["client_id"],
            )

        if request.POST.get("confirm"):
            try:
                round_ = write()
            except DomainError as error:
                form.add_problems(error)
            else:
                messages.success(request, _("Round %(name)s opened.") % {"name": round_.name})
                return redirect("testing:round", round_.pk)
        elif error := checked(write):
            form.add_problems(error)
        else:
            node = data["node"]
            counts = geo_queries.counts_by(node.level, [node.pk])[node.pk]
            planned = Round(node=node)
            planned.locate(node)
            serving = Site.objects.filter(services.round_area_q(planned))
            preview = {
                **data,
                "deadline": data["deadline"] or data["starts_at"] + DEFAULT_DEADLINE,
                "households": counts["households"],
                "residents": counts["residents"],
                "sites": serving.count(),
                "default_pattern": data["tube_pattern"].strip() in ("", DEFAULT_TUBE_PATTERN),
            }
    return render(
        request, "testing/round_new.html", {"tab": "rounds", "form": form, "preview": preview}
    )


@login_required
def site_new(request):
    """Add a sampling site with its stations from the page (confirmed like a round)."""
    user = request.user
    areas = site_areas(user)
    if not areas.exists():
        raise PermissionDenied
    buildings = Node.objects.restrict(user, scope.CHANGE).filter(level="building").order_by("path")
    form = SiteForm(request.POST or None, nodes=areas, buildings=buildings)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        node = data["node"]
        served = list(data["buildings"]) or list(buildings.filter(**{f"{node.level}_id": node.pk}))
        names = [_("Station %(n)s") % {"n": n} for n in range(1, data["stations"] + 1)]

        def write():
            return services.site_open(
                actor=user,
                node=node,
                name=data["name"],
                address=data["address"],
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                plan=data["plan"],
                buildings=served,
                stations=names,
                client_id=data["client_id"],
            )

        if request.POST.get("confirm"):
            try:
                site = write()
            except DomainError as error:
                form.add_problems(error)
            else:
                messages.success(request, _("Site %(name)s added.") % {"name": site.name})
                return redirect("testing:site", site.pk)
        elif error := checked(write):
            form.add_problems(error)
        else:
            preview = {**data, "served": served, "station_names": names}
    return render(
        request, "testing/site_new.html", {"tab": "sites", "form": form, "preview": preview}
    )


def site_for_change(user, site_id: int) -> Site:
    """A site the user may change; one they may only see is refused (403)."""
    site = queries.site_for(user, site_id)
    if not can_change(user, site):
        raise PermissionDenied
    return site


@login_required
def site_edit(request, site_id: int):
    """Write the site's plan (一点一方案): address, hours, route and arrangements."""
    user = request.user
    site = site_for_change(user, site_id)
    form = SitePlanForm(
        request.POST or None,
        initial={
            "address": site.address,
            "opens_at": site.opens_at,
            "closes_at": site.closes_at,
            "plan": site.plan,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.site_update(actor=user, site=site, **form.cleaned_data)
        except DomainError as error:
            form.add_problems(error)
        else:
            messages.success(request, _("Site plan saved."))
            return redirect("testing:site", site.pk)
    return render(request, "testing/site_edit.html", {"tab": "sites", "site": site, "form": form})


@login_required
@require_POST
def station_new(request, site_id: int):
    """Add a station to a site (from the site plan)."""
    user = request.user
    site = site_for_change(user, site_id)
    form = StationForm(request.POST)
    if form.is_valid():
        try:
            station = services.station_add(actor=user, site=site, name=form.cleaned_data["name"])
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Station %(name)s added.") % {"name": station.name})
    else:
        messages.error(request, _("Give the station a name."))
    return redirect("testing:site", site.pk)


@login_required
def round_detail(request, round_id: int):
    round_ = queries.round_for(request.user, round_id)
    node = geo_queries.area_focus(request.user, round_.node, asked_node_id(request))
    now = timezone.now()
    state = queries.round_state(round_, now)

    def draw(cov, late, counted_at) -> dict:
        """The figures part of the page, drawn once for everyone who sees this node whole
        (nothing in it depends on the login beyond its scope)."""
        chiefs = {}
        if cov.children and cov.children[0][0].level == "grid":
            chiefs = queries.chiefs_of([kid.pk for kid, _f in cov.children])
        html = render_to_string(
            "testing/_round_figures.html",
            {
                "round": round_,
                "node": node,
                "coverage": cov,
                "counted_at": counted_at,
                "projection": late,
                # Everyone expected at this node is sampled: nothing here is "projected" (a
                # unit done after the deadline is not "done by" now).
                "done_here": bool(cov.totals["expected"]) and not cov.totals["missing"],
                "children": [(kid, f, chiefs.get(kid.pk)) for kid, f in cov.children],
            },
        )
        return {"html": str(html), "late_total": late.late_total if late else 0}

    figures, _counted_at = coverage.round_figures(
        request.user, round_, node, now=now, projected=state != "planned", draw=draw
    )
    return render(
        request,
        "testing/round.html",
        {
            "tab": "rounds",
            "round": round_,
            "state": state,
            "node": node,
            "crumbs": crumbs(request.user, round_, node),
            "figures": mark_safe(figures["html"]),  # drawn by our own template above
            "late_total": figures["late_total"],
            "positives": list(result_queries.positive_tubes(request.user, round_)[:50]),
            "can_import": can_change(request.user, round_),
        },
    )


@login_required
def missing(request, round_id: int):
    round_ = queries.round_for(request.user, round_id)
    node = geo_queries.area_focus(request.user, round_.node, asked_node_id(request))
    rows = coverage.missing_residents(request.user, round_, node)
    if wants_xlsx(request):
        return people_export(rows.iterator(chunk_size=2000), _("Missing list"), round_, node)
    page = people_page(request, rows)
    return render(
        request,
        "testing/missing.html",
        {
            "tab": "rounds",
            "round": round_,
            "node": node,
            "crumbs": crumbs(request.user, round_, node),
            "page": page,
            "units": coverage.group_by_unit(page.object_list),
            "total": page.paginator.count,
            # Those not expected, on the first page only.
            "excluded": (
                list(coverage.excluded_residents(request.user, round_, node))
                if page.number == 1
                else []
            ),
        },
    )


@login_required
def home_visits(request, round_id: int):
    round_ = queries.round_for(request.user, round_id)
    node = geo_queries.area_focus(request.user, round_.node, asked_node_id(request))
    rows = coverage.home_visit_residents(request.user, round_, node)
    if wants_xlsx(request):
        return people_export(rows.iterator(chunk_size=2000), _("Home sampling"), round_, node)
    page = people_page(request, rows)
    teams = list(queries.stations_for(request.user).filter(kind=StationKind.HOME))
    return render(
        request,
        "testing/home_visits.html",
        {
            "tab": "rounds",
            "round": round_,
            "node": node,
            "crumbs": crumbs(request.user, round_, node),
            "page": page,
            "units": coverage.group_by_unit(page.object_list),
            "total": page.paginator.count,
            "teams": teams,
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
            "can_add": site_areas(request.user).exists(),
        },
    )


@login_required
def site_plan(request, site_id: int):
    site = queries.site_for(request.user, site_id)
    plan = queries.site_plan(request.user, site)
    editable = can_change(request.user, site)
    running = []
    if editable:
        now = timezone.now()
        running = [
            r
            for r in queries.rounds_for(request.user).filter(starts_at__lte=now, ends_at__gte=now)
            if services.serves(site, r)
        ]
    return render(
        request,
        "testing/site_plan.html",
        {
            "tab": "sites",
            "plan": plan,
            # Staff numbers are masked (people.models.post_phone); these the user may reveal.
            "revealable": people_queries.revealable_person_ids(
                request.user, [p.person_id for p in plan.posts]
            ),
            "can_change": editable,
            "running": running,
            "station_form": StationForm(),
        },
    )
