"""Pages of the jurisdiction tree: node pages, the building view, households, residents and
the resident search. Thin: every read is in `geo.queries`, every write in a service, and every
row is fetched through the scope (a row outside the user's subtree is a 404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.core.privacy import personal_data_reveal
from bastion.geo import queries
from bastion.geo.forms import ResidentForm
from bastion.geo.models import Household, Level, Node, Resident
from bastion.geo.services import resident_update

SEARCH_LIMIT = 50


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _crumbs(user, node: Node, *, include_self: bool = False) -> list[Node]:
    crumbs = queries.ancestors(user, node)
    return [*crumbs, node] if include_self else crumbs


@login_required
def node_detail(request, node_id: int):
    node = queries.node_for(request.user, node_id)
    if node.level == Level.BUILDING:
        return redirect("geo:building", node_id=node.pk)
    is_unit = node.level == Level.UNIT
    return render(
        request,
        "geo/node.html",
        {
            "node": node,
            "crumbs": _crumbs(request.user, node),
            "counts": queries.node_counts(node),
            "below": queries.descendants_summary(node),
            "child_level": Level(node.child_level).label if node.child_level else "",
            "children": [] if is_unit else queries.children_with_counts(request.user, node),
            "households": queries.unit_households(request.user, node) if is_unit else None,
        },
    )


@login_required
def building_detail(request, node_id: int):
    node = queries.node_for(request.user, node_id)
    if node.level != Level.BUILDING:
        return redirect("geo:node", node_id=node.pk)
    return render(
        request,
        "geo/building.html",
        {
            "node": node,
            "crumbs": _crumbs(request.user, node),
            "counts": queries.node_counts(node),
            "plan": queries.building_plan(node),
            "units": queries.children_with_counts(request.user, node),
        },
    )


@login_required
def household_detail(request, household_id: int):
    household = scope.get_scoped_or_404(
        Household.objects.select_related("unit", "building"), request.user, pk=household_id
    )
    return render(
        request,
        "geo/household.html",
        {
            "household": household,
            "crumbs": _crumbs(request.user, household.unit, include_self=True),
            "residents": queries.household_residents(request.user, household),
            "history": queries.change_history(request.user, household),
        },
    )


def _resident(request, resident_id: int, action: str = scope.VIEW) -> Resident:
    return scope.get_scoped_or_404(
        Resident.objects.select_related("household", "unit", "building"),
        request.user,
        action,
        pk=resident_id,
    )


def _resident_page(request, resident: Resident, *, revealed: dict | None = None):
    user = request.user
    return render(
        request,
        "geo/resident.html",
        {
            "resident": resident,
            "crumbs": _crumbs(user, resident.unit, include_self=True),
            "can_reveal": scope.can(user, scope.REVEAL, resident),
            "can_change": scope.can(user, scope.CHANGE, resident),
            "revealed": revealed or {},
            "history": queries.change_history(user, resident),
        },
    )


@login_required
def resident_detail(request, resident_id: int):
    return _resident_page(request, _resident(request, resident_id))


@login_required
@require_POST
def resident_reveal(request, resident_id: int, field: str):
    """Show one full number: the service checks the reveal scope (403 if not) and logs it."""
    resident = _resident(request, resident_id)
    try:
        value = personal_data_reveal(user=request.user, subject=resident, field=field, via="web")
    except DomainError:  # not a number a resident has
        raise Http404 from None
    if _is_htmx(request):
        return render(request, "geo/_revealed.html", {"value": value, "field": field})
    return _resident_page(request, resident, revealed={field: value})


@login_required
def resident_edit(request, resident_id: int):
    resident = _resident(request, resident_id, scope.CHANGE)
    form = ResidentForm(request.POST or None, resident=resident)
    if request.method == "POST" and form.is_valid():
        try:
            resident_update(resident=resident, actor=request.user, source="web", **form.changes())
        except DomainError as error:
            form.add_problems(error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("geo:resident", resident_id=resident.pk)
    return render(
        request,
        "geo/resident_edit.html",
        {
            "resident": resident,
            "crumbs": _crumbs(request.user, resident.unit, include_self=True),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
def search(request):
    text = request.GET.get("q", "").strip()
    only = request.GET.get("only", "")
    only = only if only in queries.RESIDENT_FILTERS else ""
    found = list(queries.resident_search(request.user, text, limit=SEARCH_LIMIT + 1, only=only))
    context = {
        "q": text,
        "only": only,
        "filters": [(key, label) for key, (_q, label) in queries.RESIDENT_FILTERS.items()],
        "results": found[:SEARCH_LIMIT],
        "more": len(found) > SEARCH_LIMIT,
        "limit": SEARCH_LIMIT,
    }
    if _is_htmx(request):
        return render(request, "geo/_search_results.html", context)
    return render(request, "geo/search.html", context)
