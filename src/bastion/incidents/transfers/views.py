"""The transfer pages: the list (today's, on the way, all; by destination) with two big
buttons on each open transfer (departed / arrived), the phone form to plan one, cancelling,
and a full document number shown (logged). Thin: reads in `queries`, writes in `services`."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.api_support import get_for_change
from bastion.core.errors import DomainError
from bastion.core.privacy import personal_data_reveal
from bastion.geo.models import DocKind, Node, Resident
from bastion.incidents.transfers import queries, services
from bastion.incidents.transfers.models import Destination, Reason, Transfer

SHOWN = 200


@login_required
def index(request):
    view = request.GET.get("view", "today")
    view = view if view in queries.VIEWS else "today"
    to = request.GET.get("to", "")[:120]
    raw = request.GET.get("node", "")
    node = scope.get_scoped_or_404(Node, request.user, pk=int(raw)) if raw.isdigit() else None
    rows = queries.transfer_list(request.user, view=view, to=to, node=node)
    everything = queries.transfer_list(request.user, view=view, node=node)
    return render(
        request,
        "incidents/transfers/index.html",
        {
            "view": view,
            "views": [
                ("today", _("Today")),
                ("on_the_way", pgettext("transfer", "On the way")),
                ("all", _("All")),
            ],
            "to": to,
            "node": node,
            "counts": queries.counts(queries.transfers_for(request.user)),
            "destinations": queries.by_destination(everything),
            "cards": [queries.transfer_card(request.user, t) for t in rows[:SHOWN]],
            "shown": SHOWN,
            "can_plan": scope.has_action(request.user, scope.CHANGE),
        },
    )


def _when(raw: str):
    if not raw:
        return None
    at = parse_datetime(raw)
    if at is None:
        raise DomainError(_("Give a date and time."), field="planned_at")
    return timezone.make_aware(at) if timezone.is_naive(at) else at


def _pk(raw: str) -> int | None:
    return int(raw) if (raw or "").isdigit() else None


@login_required
def plan(request):
    """The phone form: a resident (from their page) or a person not on the register, where
    from, where to, why, the vehicle and escort."""
    user = request.user
    resident_id = _pk(request.GET.get("resident", "") or request.POST.get("resident", ""))
    resident = (
        scope.get_scoped_or_404(Resident.objects.select_related("household"), user, pk=resident_id)
        if resident_id
        else None
    )
    sites = queries.quarantine_sites_for(user)
    places = queries.from_places_for(user)
    problems: dict[str, str] = {}
    if request.method == "POST":
        p = request.POST
        try:
            to_place_id = _pk(p.get("to_place", ""))
            from_place_id = _pk(p.get("from_place", ""))
            transfer = services.transfer_plan(
                actor=user,
                resident=resident,
                name=p.get("name", ""),
                doc_kind=p.get("doc_kind", ""),
                doc_number=p.get("doc_number", ""),
                phone=p.get("phone", ""),
                from_place=places.filter(pk=from_place_id).first() if from_place_id else None,
                destination=p.get("destination", ""),
                to_hospital=p.get("to_hospital", ""),
                to_place=sites.filter(pk=to_place_id).first() if to_place_id else None,
                reason=p.get("reason", ""),
                note=p.get("note", ""),
                plate=p.get("plate", ""),
                escort=p.get("escort", ""),
                planned_at=_when(p.get("planned_at", "")),
                client_id=_uuid(p.get("client_id", "")),
            )
        except DomainError as error:
            problems = {pr.field or "": pr.message for pr in error.problems}
        else:
            messages.success(request, _("Transfer planned: %(name)s.") % {"name": transfer.name})
            return redirect(reverse("transfers:index") + "?view=today")
    return render(
        request,
        "incidents/transfers/plan.html",
        {
            "resident": resident,
            "sites": sites,
            "places": places,
            "reasons": Reason.choices,
            "destinations": Destination.choices,
            "doc_kinds": [c for c in DocKind.choices if c[0] != DocKind.NONE],
            "problems": problems,
            "values": request.POST,
            "client_id": request.POST.get("client_id") or uuid.uuid4(),
        },
        status=422 if problems else 200,
    )


def _uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def _transfer_for_change(request, transfer_id: int) -> Transfer:
    return get_for_change(Transfer, request.user, pk=transfer_id)


def _act(request, transfer_id: int, act):
    transfer = _transfer_for_change(request, transfer_id)
    try:
        act(transfer)
    except DomainError as error:
        for problem in error.problems:
            messages.error(request, f"{transfer.name}: {problem.message}")
    back = request.POST.get("next", "")
    return redirect(
        back if back.startswith("/") and not back.startswith("//") else "transfers:index"
    )


@login_required
@require_POST
def depart(request, transfer_id: int):
    return _act(
        request,
        transfer_id,
        lambda t: services.transfer_depart(
            actor=request.user,
            transfer=t,
            plate=request.POST.get("plate", ""),
            escort=request.POST.get("escort", ""),
        ),
    )


@login_required
@require_POST
def arrive(request, transfer_id: int):
    return _act(
        request,
        transfer_id,
        lambda t: services.transfer_arrive(actor=request.user, transfer=t),
    )


@login_required
@require_POST
def cancel(request, transfer_id: int):
    return _act(
        request,
        transfer_id,
        lambda t: services.transfer_cancel(
            actor=request.user, transfer=t, reason=request.POST.get("reason", "")
        ),
    )


@login_required
@require_POST
def reveal(request, transfer_id: int):
    """The full document number of a person not on the register (a resident's own numbers
    are revealed on their page); checked and logged by `core.privacy`."""
    transfer = scope.get_scoped_or_404(Transfer, request.user, pk=transfer_id)
    if not transfer.doc_number:
        raise Http404
    value = personal_data_reveal(user=request.user, subject=transfer, field="doc_number", via="web")
    return render(request, "geo/_revealed.html", {"value": value, "field": "doc_number"})
