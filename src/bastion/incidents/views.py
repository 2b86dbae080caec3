"""The control-areas page: the areas of the user's part of the tree (active first, then the
lifted ones as history), a form to put a node under a level, and a button to lift one. Thin:
reads in `incidents.queries`, writes in `incidents.services`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.core.scope import get_scoped_or_404
from bastion.geo.models import Node
from bastion.incidents import queries, services
from bastion.incidents.models import AREA_LEVELS, ControlLevel

SHOWN = 300
CHOICES = 400  # nodes offered in the form's list


def _node(request) -> Node | None:
    raw = request.GET.get("node", "") or request.POST.get("at", "")
    return get_scoped_or_404(Node, request.user, pk=int(raw)) if raw.isdigit() else None


def _choices(user, node: Node | None) -> list[Node]:
    """Nodes the user may put under a level: of `node`'s subtree (or the user's), down to
    buildings (units too when looking at one building)."""
    levels = list(AREA_LEVELS)
    if node is None or node.level not in ("building", "unit"):
        levels.remove("unit")
    rows = Node.objects.restrict(user, scope.CHANGE).filter(level__in=levels)
    if node is not None:
        rows = rows.filter(**{f"{node.level}_id": node.pk})
    return list(rows.order_by("path")[:CHOICES])


@login_required
def index(request):
    node = _node(request)
    areas = list(queries.areas_under(request.user, node)[:SHOWN])
    changeable = set(
        queries.areas_for(request.user, scope.CHANGE)
        .filter(pk__in=[a.pk for a in areas], lifted_at__isnull=True)
        .values_list("pk", flat=True)
    )
    can_set = scope.has_action(request.user, scope.CHANGE)
    return render(
        request,
        "incidents/index.html",
        {
            "node": node,
            "areas": [(a, a.pk in changeable) for a in areas],
            "counts": queries.level_counts(request.user, node),
            "effective": queries.effective_area(node) if node is not None else None,
            "levels": ControlLevel.choices,
            "choices": _choices(request.user, node) if can_set else [],
            "shown": SHOWN,
        },
    )


def _back(node_id: str):
    url = reverse("incidents:index")
    return redirect(f"{url}?node={node_id}" if node_id.isdigit() else url)


@login_required
@require_POST
def area_set(request):
    raw = request.POST.get("node", "")
    if not raw.isdigit():
        messages.error(request, _("Choose the area."))
        return _back(request.POST.get("at", ""))
    node = get_scoped_or_404(Node, request.user, scope.CHANGE, pk=int(raw))
    try:
        area = services.control_set(
            actor=request.user,
            node=node,
            level=request.POST.get("level", ""),
            reason=request.POST.get("reason", ""),
        )
    except DomainError as e:
        messages.error(request, str(e))
    else:
        messages.success(
            request,
            _("%(node)s is now %(level)s.")
            % {"node": node.name, "level": area.get_level_display()},
        )
    return _back(request.POST.get("at", ""))


@login_required
@require_POST
def area_lift(request, area_id: int):
    area = queries.area_for(request.user, area_id, scope.CHANGE)
    services.control_lift(actor=request.user, area=area)
    messages.success(request, _("%(node)s: control lifted.") % {"node": area.node.name})
    return _back(request.POST.get("at", ""))
