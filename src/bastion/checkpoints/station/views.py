"""The service station's phone page: today's figures, the visit form (a client id made with
the page, so a double tap logs once), the drivers here now with a tap to see them leave."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.checkpoints import queries as checkpoint_queries
from bastion.checkpoints.station import queries, services
from bastion.checkpoints.station.models import StationVisit
from bastion.core import scope
from bastion.core.api_support import get_for_change
from bastion.core.errors import DomainError
from bastion.geo.identity import mask_id_number, mask_name
from bastion.geo.models import DocKind
from bastion.people.mobilization.models import Place, PlaceKind

FIELDS = ("plate", "code", "name", "doc_kind", "doc_number", "meals", "result_at")


@login_required
def station(request, checkpoint_id: int):
    place = checkpoint_queries.place_for(request.user, checkpoint_id, PlaceKind.CHECKPOINT)
    form = {"client_id": uuid.uuid4(), "meals": "0"}
    problems = []
    if request.method == "POST":
        place = get_for_change(
            Place.objects.filter(kind=PlaceKind.CHECKPOINT), request.user, pk=checkpoint_id
        )
        post = request.POST
        form = {k: post.get(k, "")[:50] for k in (*FIELDS, "client_id")}
        try:
            services.station_visit_record(
                actor=request.user,
                place=place,
                plate=form["plate"],
                code=form["code"],
                name=form["name"],
                doc_kind=form["doc_kind"] if form["doc_number"] else "",
                doc_number=form["doc_number"],
                rested=post.get("rested") == "1",
                meals=int(form["meals"]) if form["meals"].isdigit() else -1,
                tested=post.get("tested") == "1",
                result_at=parse_datetime(form["result_at"]) if form["result_at"] else None,
                client_id=_uuid(form["client_id"]),
            )
        except (DomainError, ValueError) as error:
            problems = getattr(error, "problems", [])
        else:
            messages.success(request, _("Visit logged."))
            return redirect("checkpoints:station", checkpoint_id=place.pk)
    visits = [
        {
            "v": v,
            "name": mask_name(v.name),
            "doc": mask_id_number(v.doc_number),
        }
        for v in queries.station_visits(place)
    ]
    return render(
        request,
        "checkpoints/station.html",
        {
            "place": place,
            "today": queries.station_today(place, timezone.localdate()),
            "visits": visits,
            "form": form,
            "problems": problems,
            "doc_kinds": [c for c in DocKind.choices if c[0] != "none"],
            "can_enter": scope.allows(request.user, scope.CHANGE, place),
        },
        status=422 if problems else 200,
    )


@login_required
@require_POST
def station_leave(request, visit_id: int):
    visit = get_for_change(StationVisit, request.user, pk=visit_id)
    services.station_visit_leave(actor=request.user, visit=visit)
    return redirect("checkpoints:station", checkpoint_id=visit.place_id)


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        return uuid.uuid4()
