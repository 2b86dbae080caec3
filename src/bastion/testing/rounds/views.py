"""Mass-testing pages: rounds with coverage per child node, the missing list, home visits,
throughput, and sites with their printable plan. Thin: reads in the queries modules, writes
in the services; every row fetched through the scope (outside it is a 404)."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

from bastion.core import scope
from bastion.geo import queries as geo_queries
from bastion.geo.models import Node
from bastion.people import queries as people_queries
from bastion.testing.results import queries as result_queries
from bastion.testing.rounds import coverage, queries
from bastion.testing.rounds.models import Round, StationKind
from bastion.testing.rounds.projection import deadline_projection

MISSING_SHOWN = 2000


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
        },
    )


@login_required
def round_detail(request, round_id: int):
    round_ = queries.round_for(request.user, round_id)
    node = geo_queries.area_focus(request.user, round_.node, asked_node_id(request))
    cov = coverage.coverage(request.user, round_, node)
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
            "crumbs": crumbs(request.user, round_, node),
            "coverage": cov,
            "projection": late,
            "children": [(kid, f, chiefs.get(kid.pk)) for kid, f in cov.children],
            "positives": list(result_queries.positive_tubes(request.user, round_)[:50]),
            "can_import": can_change(request.user, round_),
        },
    )


@login_required
def missing(request, round_id: int):
    round_ = queries.round_for(request.user, round_id)
    node = geo_queries.area_focus(request.user, round_.node, asked_node_id(request))
    units, total = coverage.missing_list(request.user, round_, node, limit=MISSING_SHOWN)
    return render(
        request,
        "testing/missing.html",
        {
            "tab": "rounds",
            "round": round_,
            "node": node,
            "crumbs": crumbs(request.user, round_, node),
            "units": units,
            "total": total,
            "shown": sum(u.count for u in units),
            "excluded": list(coverage.excluded_residents(request.user, round_, node)),
        },
    )


@login_required
def home_visits(request, round_id: int):
    round_ = queries.round_for(request.user, round_id)
    node = geo_queries.area_focus(request.user, round_.node, asked_node_id(request))
    units = coverage.home_visits(request.user, round_, node)
    teams = list(queries.stations_for(request.user).filter(kind=StationKind.HOME))
    return render(
        request,
        "testing/home_visits.html",
        {
            "tab": "rounds",
            "round": round_,
            "node": node,
            "crumbs": crumbs(request.user, round_, node),
            "units": units,
            "total": sum(u.count for u in units),
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
        },
    )


@login_required
def site_plan(request, site_id: int):
    site = queries.site_for(request.user, site_id)
    plan = queries.site_plan(request.user, site)
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
        },
    )
