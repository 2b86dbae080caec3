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
from bastion.incidents.models import AREA_LEVELS, WHAT_APPLIES, ControlLevel
from bastion.incidents.response import queries as response_queries
from bastion.incidents.response import services as response

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
        .filter(pk__in=[a.pk for a in areas])
        .values_list("pk", flat=True)
    )
    revertible = queries.last_changes(areas) & changeable
    can_set = scope.has_action(request.user, scope.CHANGE)
    return render(
        request,
        "incidents/index.html",
        {
            "node": node,
            "areas": [(a, a.active and a.pk in changeable, a.pk in revertible) for a in areas],
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


def _confirm(request, *, action: str, node: Node, level: str | None, post_to: str, **extra):
    """The page that says what a change will do before it is made: whom it reaches and the
    level they are under before and after. Confirming posts the same fields again."""
    current = queries.effective_area(node)
    after = queries.level_after(node, level)
    return render(
        request,
        "incidents/confirm.html",
        {
            "action": action,
            "node": node,
            "level": level,
            "level_label": ControlLevel(level).label if level else None,
            "on_node": queries.active_on(node),
            "before": ControlLevel(current.level) if current else None,
            "after": ControlLevel(after) if after else None,
            "applies": WHAT_APPLIES.get(after) if after else None,
            "people": queries.people_under(node),
            "post_to": post_to,
            "at": request.POST.get("at", ""),
            "back": _back(request.POST.get("at", "")).url,
            **extra,
        },
    )


def _confirmed(request) -> bool:
    return request.POST.get("confirm") == "yes"


@login_required
@require_POST
def area_set(request):
    raw = request.POST.get("node", "")
    level = request.POST.get("level", "")
    reason = request.POST.get("reason", "").strip()
    if not raw.isdigit():
        messages.error(request, _("Choose the area."))
        return _back(request.POST.get("at", ""))
    node = get_scoped_or_404(Node, request.user, scope.CHANGE, pk=int(raw))
    if not _confirmed(request):
        if level not in ControlLevel.values or not reason:
            messages.error(
                request,
                _("Choose the control level.")
                if level not in ControlLevel.values
                else _("Give the reason."),
            )
            return _back(request.POST.get("at", ""))
        return _confirm(
            request,
            action="set",
            node=node,
            level=level,
            post_to=reverse("incidents:set"),
            reason=reason,
        )
    try:
        area = services.control_set(actor=request.user, node=node, level=level, reason=reason)
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
    if not area.active:
        return _back(request.POST.get("at", ""))
    if not _confirmed(request):
        return _confirm(
            request,
            action="lift",
            node=area.node,
            level=None,
            post_to=reverse("incidents:lift", args=[area.pk]),
            area=area,
            rule=response_queries.lift_check(area),
        )
    try:
        response.area_lift(actor=request.user, area=area)
    except DomainError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("%(node)s: control lifted.") % {"node": area.node.name})
    return _back(request.POST.get("at", ""))


@login_required
@require_POST
def area_revert(request, area_id: int):
    """Undo a node's last change made by mistake (after a confirmation)."""
    area = queries.area_for(request.user, area_id, scope.CHANGE)
    if not services.revertible(area):
        messages.error(request, _("Only the last change of an area can be reverted."))
        return _back(request.POST.get("at", ""))
    restored = queries.replaced_by(area) if area.active else area
    if not _confirmed(request):
        return _confirm(
            request,
            action="revert",
            node=area.node,
            level=restored.level if restored else None,
            post_to=reverse("incidents:revert", args=[area.pk]),
            area=area,
            restored=restored,
        )
    try:
        services.control_revert(actor=request.user, area=area)
    except DomainError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("%(node)s: the change is reverted.") % {"node": area.node.name})
    return _back(request.POST.get("at", ""))
