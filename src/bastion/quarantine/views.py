"""The quarantine pages: the sites (and the login's residents in quarantine), a site's board
(rooms by state, beds taken, checks due, releases and tests due today), its rooms (a pattern
or a spreadsheet), the intake (a checkpoint's hand-overs waiting, a row picked from the call
lists in the login's scope, a returnee, a positive response), the phone's list of checks
still due, a stay (checks, incidents, release, transfer, hand-over home) and its printable
release notice. Names are shown masked in lists, numbers masked everywhere until revealed
(logged). Thin: reads in `queries`, writes in `services`."""

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.core.privacy import personal_data_reveal
from bastion.geo.identity import mask_id_number, mask_mobile, mask_name
from bastion.geo.models import DocKind, Node
from bastion.quarantine import queries, services
from bastion.quarantine.models import SYMPTOMS, Half, IncidentKind, Room, Source, StayState

BOARD_LIST = 200  # people listed on the board
CALL_ROWS = 200  # call-list rows offered on the intake page


def _said(request, error: DomainError) -> None:
    for p in error.problems[:30]:
        if p.row is not None:
            messages.error(
                request, _("Row %(row)s: %(message)s") % {"row": p.row, "message": p.message}
            )
        else:
            messages.error(request, p.message)


def _client_id(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.uuid4()


def _shown(stay) -> dict:
    return {
        "id": stay.pk,
        "name": mask_name(stay.name),
        "doc": mask_id_number(stay.doc_number),
        "room": str(stay.room),
        "admitted": stay.admitted_at,
        "planned_end": stay.planned_end,
        "source": stay.get_source_display(),
        "state": stay.get_state_display(),
    }


@login_required
def index(request):
    return render(
        request,
        "quarantine/index.html",
        {
            "sites": list(queries.sites_for(request.user)),
            "home": [
                _shown(s) | {"site": s.place.name} for s in queries.home_stays(request.user)[:100]
            ],
        },
    )


def _now_half() -> tuple[dt.date, str]:
    now = timezone.localtime()
    return now.date(), services.half_of(now)


@login_required
def board(request, quarantine_id: int):
    place = queries.site_for(request.user, quarantine_id)
    day, half = _now_half()
    return render(
        request,
        "quarantine/board.html",
        {
            "place": place,
            "terms": services.site_terms(place),
            "board": queries.board(place, day, half),
            "half": Half(half).label,
            "plan": queries.room_grid(place),
            "releases": [_shown(s) for s in queries.releases_due(place, day)[:BOARD_LIST]],
            "tests": [_shown(s) for s in queries.tests_due(place, day)[:BOARD_LIST]],
            "to_transfer": [_shown(s) for s in queries.to_transfer(place)[:BOARD_LIST]],
            "stays": [
                _shown(s)
                for s in queries.stays_in(place).order_by("room__block", "room__number")[
                    :BOARD_LIST
                ]
            ],
            "can_change": _can_change(request.user, place),
        },
    )


def _can_change(user, place) -> bool:
    return queries.sites_for(user, scope.CHANGE).filter(pk=place.pk).exists()


def _site_for_change(user, quarantine_id: int):
    place = queries.site_for(user, quarantine_id)
    if not _can_change(user, place):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("Your role may not change this."))
    return place


@login_required
def rooms(request, quarantine_id: int):
    """A site's rooms and terms; POST adds rooms from a pattern or a spreadsheet, or sets the
    terms."""
    if request.method == "POST":
        place = _site_for_change(request.user, quarantine_id)
        post = request.POST
        try:
            if post.get("what") == "terms":
                services.site_set(
                    actor=request.user,
                    place=place,
                    stay_days=int(post.get("stay_days") or 0),
                    home_days=int(post.get("home_days") or 0),
                    test_days=post.get("test_days", "")[:60],
                )
                messages.success(request, _("Saved."))
            else:
                if "file" in request.FILES:
                    upload = request.FILES["file"]
                    wanted = services.rooms_from_sheet(
                        filename=upload.name, content=upload.read()[:5_000_000]
                    )
                else:
                    wanted = services.rooms_pattern(
                        buildings=[b for b in post.get("buildings", "").split(",") if b.strip()][
                            :20
                        ],
                        floors=(int(post.get("floor_from") or 1), int(post.get("floor_to") or 1)),
                        per_floor=int(post.get("per_floor") or 0),
                        capacity=int(post.get("capacity") or 1),
                    )
                made = services.rooms_create(actor=request.user, place=place, rooms=wanted)
                messages.success(request, _("%(n)s rooms added.") % {"n": len(made)})
        except DomainError as error:
            _said(request, error)
        except ValueError:
            messages.error(request, _("Enter whole numbers."))
        return redirect("quarantine:rooms", quarantine_id=place.pk)
    place = queries.site_for(request.user, quarantine_id)
    return render(
        request,
        "quarantine/rooms.html",
        {
            "place": place,
            "terms": services.site_terms(place),
            "plan": queries.room_grid(place),
            "can_change": _can_change(request.user, place),
        },
    )


@login_required
@require_POST
def room_disinfected(request, room_id: int):
    room = Room.objects.restrict(request.user, scope.CHANGE).filter(pk=room_id).first()
    if room is None:
        raise Http404
    try:
        services.room_disinfected(actor=request.user, room=room)
        messages.success(request, _("Room %(room)s is ready.") % {"room": room})
    except DomainError as error:
        _said(request, error)
    return redirect("quarantine:rooms", quarantine_id=room.place_id)


@login_required
def intake(request, quarantine_id: int):
    """The intake form; the checkpoints' hand-overs waiting are listed to take in one tap."""
    place = _site_for_change(request.user, quarantine_id)
    if request.method == "POST":
        post = request.POST
        kw = {}
        source = post.get("source", "")
        try:
            if source == Source.CHECKPOINT:
                occupant = (
                    queries.waiting_handovers(place)
                    .filter(pk=int(post.get("occupant_id") or 0))
                    .first()
                )
                if occupant is None:
                    raise DomainError(
                        _("This person is not waiting to be received."), field="occupant_id"
                    )
                kw["occupant"] = occupant
            elif source == "transfer":
                transfer_id = int(post.get("transfer_id") or 0)
                transfer = queries.transfers_arriving(place).filter(pk=transfer_id).first()
                if transfer is None:
                    raise DomainError(
                        _("This transfer is not on its way to this site."), field="transfer_id"
                    )
                kw["transfer"], source = transfer, Source.POSITIVE
            elif source == Source.CALL_LIST:
                row_id = post.get("call_row_id", "")
                call_row = (
                    queries.call_rows_to_take(request.user).filter(pk=int(row_id)).first()
                    if row_id.isdigit()
                    else None
                )
                if call_row is None:
                    raise DomainError(
                        _("This row is not on a call list you may take in from."),
                        field="call_row_id",
                    )
                kw["call_row"] = call_row
            home = post.get("home_node_id", "")
            if home.isdigit():
                kw["home_node"] = scope.get_scoped_or_404(Node, request.user, pk=int(home))
            arrival = parse_datetime(post.get("arrival_at", "") or "")
            if arrival is not None and timezone.is_naive(arrival):
                arrival = timezone.make_aware(arrival)
            services.stay_admit(
                actor=request.user,
                place=place,
                room_id=int(post.get("room_id") or 0),
                source=source,
                person=services.PersonInput(
                    post.get("name", "")[:50],
                    post.get("doc_kind", "id_card")[:16],
                    post.get("doc_number", "")[:30],
                    post.get("phone", "")[:20],
                ),
                travel_no=post.get("travel_no", "")[:12],
                arrival_at=arrival,
                client_id=_client_id(post.get("client_id")),
                **kw,
            )
            messages.success(request, _("Admitted."))
            return redirect("quarantine:board", quarantine_id=place.pk)
        except DomainError as error:
            _said(request, error)
        return redirect("quarantine:intake", quarantine_id=place.pk)
    waiting = [
        {
            "id": o.pk,
            "name": mask_name(o.name),
            "doc": mask_id_number(o.doc_number),
            "at": o.arrived_at,
            "place": o.entry.place.name,
            "plate": o.entry.plate,
        }
        for o in queries.waiting_handovers(place)[:100]
    ]
    arriving = [
        {
            "id": t.pk,
            "name": mask_name(t.name),
            "state": t.get_state_display(),
            "at": t.departed_at,
            "plate": t.plate,
        }
        for t in queries.transfers_arriving(place)[:100]
    ]
    search = request.GET.get("q", "")[:30]
    call_rows = [
        {
            "id": r.pk,
            "name": mask_name(r.name),
            "doc": mask_id_number(r.id_number),
            "list": r.call_list.name,
            "row": r.row,
        }
        for r in queries.call_rows_to_take(request.user, search)[:CALL_ROWS]
    ]
    return render(
        request,
        "quarantine/intake.html",
        {
            "place": place,
            "waiting": waiting,
            "arriving": arriving,
            "call_rows": call_rows,
            "search": search,
            "rooms": list(queries.free_rooms(place)[:500]),
            "sources": [
                c for c in Source.choices if c[0] not in (Source.CHECKPOINT, Source.CALL_LIST)
            ],
            "doc_kinds": [c for c in DocKind.choices if c[0] != "none"],
            "client_id": uuid.uuid4(),
            "call_client_id": uuid.uuid4(),
        },
    )


@login_required
def checks(request, quarantine_id: int):
    """The phone's page: who is still due this half-day's check, one form each."""
    place = _site_for_change(request.user, quarantine_id)
    day, half = _now_half()
    if request.method == "POST":
        post = request.POST
        stay = (
            queries.stays_for(request.user, place=place)
            .filter(pk=int(post.get("stay_id") or 0))
            .first()
        )
        if stay is None:
            raise Http404
        try:
            services.check_record(
                actor=request.user,
                stay=stay,
                temperature=post.get("temperature", "")[:6],
                symptoms=post.getlist("symptoms")[:10],
                client_id=_client_id(post.get("client_id")),
            )
            messages.success(request, _("%(name)s: recorded.") % {"name": mask_name(stay.name)})
        except DomainError as error:
            _said(request, error)
        return redirect("quarantine:checks", quarantine_id=place.pk)
    due = [
        _shown(s) | {"client_id": uuid.uuid4()} for s in queries.due_checks(place, day, half)[:300]
    ]
    return render(
        request,
        "quarantine/checks.html",
        {
            "place": place,
            "due": due,
            "half": Half(half).label,
            "day": day,
            "symptoms": SYMPTOMS.items(),
        },
    )


@login_required
def stay(request, stay_id: int):
    s = queries.stay_for(request.user, stay_id)
    return render(
        request,
        "quarantine/stay.html",
        {
            "stay": s,
            "shown": _shown(s),
            "phone": mask_mobile(s.phone),
            "checks": list(s.checks.order_by("-day", "-half")[:60]),
            "incidents": list(s.incidents.all()[:50]),
            "kinds": IncidentKind.choices,
            "can_change": scope.allows(request.user, scope.CHANGE, s),
            "can_reveal": scope.allows(request.user, scope.REVEAL, s),
            "is_in": s.state == StayState.IN,
            "planned_out": s.transfer_out
            if s.transfer_out_id and s.transfer_out.state == "planned"
            else None,
            "early": s.state == StayState.IN and timezone.localdate() < s.planned_end,
        },
    )


@login_required
@require_POST
def stay_act(request, stay_id: int, action: str):
    """Release, transfer, hand over home or log an incident of a stay."""
    s = queries.stay_for(request.user, stay_id, scope.CHANGE)
    post = request.POST
    try:
        if action == "release":
            services.stay_release(actor=request.user, stay=s, reason=post.get("reason", "")[:200])
            messages.success(request, _("Released."))
        elif action == "transfer":
            services.stay_transfer(
                actor=request.user,
                stay=s,
                to=post.get("to", "")[:100],
                vehicle=post.get("vehicle", "")[:20],
                escort=post.get("escort", "")[:50],
            )
            messages.success(request, _("Transferred."))
        elif action == "hand_over":
            home = post.get("home_node_id", "")
            node = (
                scope.get_scoped_or_404(Node, request.user, pk=int(home))
                if home.isdigit()
                else None
            )
            services.stay_hand_over(actor=request.user, stay=s, home_node=node)
            messages.success(request, _("Handed over to the home community."))
        elif action == "incident":
            services.incident_record(
                actor=request.user,
                stay=s,
                kind=post.get("kind", ""),
                what=post.get("what", "")[:300],
                done=post.get("done", "")[:300],
                client_id=_client_id(post.get("client_id")),
            )
            messages.success(request, _("Recorded."))
        else:
            raise Http404
    except DomainError as error:
        _said(request, error)
    return redirect("quarantine:stay", stay_id=s.pk)


@login_required
def notice(request, stay_id: int):
    """The release notice (解除隔离告知书), A4 to print. Its document number is shown in full
    only to a role that may reveal it, and each printing is logged as a reveal."""
    s = queries.stay_for(request.user, stay_id)
    if s.state != StayState.RELEASED:
        raise Http404("Not released.")
    if scope.allows(request.user, scope.REVEAL, s):
        number = personal_data_reveal(
            user=request.user, subject=s, field="doc_number", via="web", whose=s.name
        )
    else:
        number = mask_id_number(s.doc_number)
    return render(
        request,
        "quarantine/notice.html",
        {"stay": s, "number": number, "home_days": services.site_terms(s.place).home_days},
    )


@login_required
@require_POST
def reveal(request, stay_id: int, field: str):
    s = queries.stay_for(request.user, stay_id)
    if field not in ("doc_number", "phone"):
        raise Http404
    value = personal_data_reveal(user=request.user, subject=s, field=field, via="web", whose=s.name)
    return render(request, "geo/_revealed.html", {"value": value, "field": field})
