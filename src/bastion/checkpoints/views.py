"""The checkpoint pages: the list of checkpoints and gates, a checkpoint's board (per hour
and per day, the people handed over, masked), the phone's entry page (offline, with a queue
that syncs through the batch API: static/checkpoints/entry.js), and a compound gate's page
(find a resident, let in or out, register a visitor; per-hour figures). Thin: reads in
`queries`, writes in `services`."""

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.checkpoints import queries, services
from bastion.checkpoints.loop import queries as loop_queries
from bastion.checkpoints.loop import services as loop_services
from bastion.checkpoints.models import Decision, Direction, HealthCode, Occupant, VehicleKind
from bastion.core import scope
from bastion.core.api_support import get_for_change
from bastion.core.privacy import personal_data_reveal
from bastion.geo.identity import mask_id_number, mask_mobile, mask_name
from bastion.geo.models import DocKind
from bastion.people.mobilization.models import Place, PlaceKind


@login_required
def index(request):
    return render(
        request,
        "checkpoints/index.html",
        {
            "checkpoints": list(queries.places_for(request.user, PlaceKind.CHECKPOINT)),
            "gates": list(queries.places_for(request.user, PlaceKind.GUARD_POINT)),
        },
    )


@login_required
def board(request, checkpoint_id: int):
    place = queries.place_for(request.user, checkpoint_id, PlaceKind.CHECKPOINT)
    day = timezone.localdate()
    hours = queries.checkpoint_hours(place, day)
    days = queries.checkpoint_days(place, day)
    handed = [
        {
            "at": o.arrived_at,
            "name": mask_name(o.name),
            "doc": mask_id_number(o.doc_number),
            "phone": mask_mobile(o.phone),
            "id": o.pk,
            "decision": o.get_decision_display(),
            "plate": o.entry.plate,
            "temperature": o.temperature,
        }
        for o in queries.handovers(place, day)[:100]
    ]
    now = timezone.now()
    loop_services.loop_passes_escalate_due(now=now)  # the notice goes out even with no worker
    waiting = [
        {"p": p, "name": mask_name(p.occupant.name), "overdue": p.due_at <= now}
        for p in loop_queries.waiting(place)[:100]
    ]
    escorted = [
        {"o": o, "name": mask_name(o.name)}
        for o in loop_queries.escorted_without_pass(place, now - dt.timedelta(days=1))[:50]
    ]
    return render(
        request,
        "checkpoints/board.html",
        {
            "place": place,
            "waiting": waiting,
            "overdue": sum(1 for w in waiting if w["overdue"]),
            "escorted": escorted,
            "confirmed_today": loop_queries.confirmed_on(place, day),
            "hours": [h for h in hours if h.people or h.at.hour <= timezone.localtime().hour],
            "days": days,
            "today": days[0],
            "handed": handed,
            "recent": queries.recent_entries(place),
            "can_enter": scope.allows(request.user, scope.CHANGE, place),
            "can_reveal": scope.allows(request.user, scope.REVEAL, place),
        },
    )


@login_required
@require_POST
def occupant_reveal(request, occupant_id: int, field: str):
    """One full number of a person checked (to call someone handed over): the reveal scope
    is checked and the reveal logged by `core.privacy`."""
    occupant = scope.get_scoped_or_404(Occupant, request.user, pk=occupant_id)
    if field not in ("doc_number", "phone"):
        raise Http404
    value = personal_data_reveal(user=request.user, subject=occupant, field=field, via="web")
    return render(request, "geo/_revealed.html", {"value": value, "field": field})


@login_required
def entry(request, checkpoint_id: int):
    """The phone's page: works offline once visited; the queue syncs by itself."""
    place = get_for_change(
        Place.objects.filter(kind=PlaceKind.CHECKPOINT), request.user, pk=checkpoint_id
    )
    strings = {
        "queued": _("%(n)s waiting to be sent"),
        "sent": _("All sent"),
        "offline": _("Offline: kept on this phone, sent when the network is back."),
        "accepted": _("Stored: %(plate)s, %(n)s people."),
        "refused": _("Refused: %(why)s"),
        "seen": _("Seen before (%(n)s times): its people are filled in."),
        "person": _("Person"),
        "driver": _("Driver"),
        "remove": _("Remove"),
        "known": _("as before"),
    }
    return render(
        request,
        "checkpoints/entry.html",
        {
            "place": place,
            "kinds": VehicleKind.choices,
            "codes": HealthCode.choices,
            "decisions": Decision.choices,
            "doc_kinds": [c for c in DocKind.choices if c[0] != "none"],
            "strings": strings,
        },
    )


@login_required
def gate(request, gate_id: int):
    place = queries.place_for(request.user, gate_id, PlaceKind.GUARD_POINT)
    q = request.GET.get("q", "")[:50]
    found = queries.gate_people(request.user, place, q) if q else []
    context = {
        "place": place,
        "q": q,
        "found": [
            {
                "id": r.pk,
                "name": mask_name(r.name),
                "doc": mask_id_number(r.id_number or r.doc_number),
                "room": str(r.household),
                "client_id": uuid.uuid4(),  # one per form: a double tap writes once
            }
            for r in found
        ],
        "client_id": uuid.uuid4(),
        "hours": [
            h
            for h in queries.gate_hours(place, timezone.localdate())
            if h.at.hour <= timezone.localtime().hour
        ],
        "recent": queries.recent_passages(place),
        "can_enter": scope.allows(request.user, scope.CHANGE, place),
    }
    if request.headers.get("HX-Request") and request.GET.get("part") == "found":
        return render(request, "checkpoints/_found.html", context)
    return render(request, "checkpoints/gate.html", context)


@login_required
@require_POST
def gate_pass(request, gate_id: int):
    """One person through the gate from the page (the crew's tap); a refusal is shown."""
    place = get_for_change(
        Place.objects.filter(kind=PlaceKind.GUARD_POINT), request.user, pk=gate_id
    )
    post = request.POST
    resident = post.get("resident_id", "")
    item = services.PassageInput(
        client_id=_client_id(post.get("client_id")),
        direction=post.get("direction", ""),
        resident_id=int(resident) if resident.isdigit() else None,
        visitor_name=post.get("visitor_name", "")[:50],
        phone=post.get("phone", "")[:20],
        purpose=post.get("purpose", "")[:100],
        temperature=post.get("temperature") or None,
        refused=post.get("refused") == "1",
        reason=post.get("reason", "")[:200],
    )
    [outcome] = services.passages_record(actor=request.user, gate=place, items=[item])
    if outcome.status == "refused":
        for p in outcome.problems:
            messages.error(request, p.message)
    elif outcome.message:
        messages.warning(request, _("Turned back: %(why)s") % {"why": outcome.message})
    else:
        messages.success(
            request, _("In: recorded.") if item.direction == Direction.IN else _("Out: recorded.")
        )
    return redirect("checkpoints:gate", gate_id=place.pk)


def _client_id(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.uuid4()
