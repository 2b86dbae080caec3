"""Every write of the requests module: one keyword-only function per use case, transactional,
raising DomainError (naming the field) before anything is half-written, and recording each
change of status in the change log.

A move between states is legal only from the source states listed in `REQUEST_MOVES` /
`ERRAND_MOVES`; every other one is refused with the reason. Rows passed in must have been
fetched through the scope (`requests.queries`), or through the household's link for the
resident's own page (`link_from_token`). Writes a device may retry carry a client-made id:
creations store it on the row, moves store it in `Submission`; a retry changes nothing and
answers the row as it stands.
"""

import base64
import datetime as dt
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import Conflict, DomainError, Problem
from bastion.core.idempotency import create_once
from bastion.core.photos import MAX_PHOTOS, CheckedPhoto
from bastion.core.privacy import personal_data_reveal
from bastion.geo.identity import normalise_mobile
from bastion.geo.models import Household, Node, Resident
from bastion.incidents.models import ControlLevel
from bastion.incidents.queries import level_over_rows
from bastion.incidents.response.registry import Opened
from bastion.people.models import Person, PersonKind
from bastion.requests.models import (
    PRIORITY,
    Attendee,
    AttendeeCategory,
    Category,
    Channel,
    Errand,
    ErrandItem,
    ErrandStatus,
    ErrandUrgency,
    HouseholdLink,
    Meeting,
    MeetingStatus,
    Photo,
    PhotoKind,
    Proof,
    Request,
    Status,
    Submission,
    Track,
    Urgency,
)
from bastion.requests.queries import errand_contact

M = TypeVar("M", bound=models.Model)
Actor = AbstractBaseUser | None

HN, CO = Track.HANDLE_NOW.value, Track.CONSULT.value

# action -> the (status, track) pairs it may start from. The one table the services, the
# pages (which buttons to offer) and the tests (every illegal move) read.
REQUEST_MOVES: dict[str, frozenset[tuple[str, str]]] = {
    "triage": frozenset({(Status.NEW, "")}),
    "claim": frozenset({(Status.WAITING, HN)}),
    "done": frozenset({(Status.CLAIMED, HN), (Status.ASSIGNED, CO)}),
    "assign": frozenset({(Status.ON_AGENDA, CO)}),
    "report_back": frozenset({(Status.DONE, CO)}),
    "close": frozenset(
        {
            (Status.NEW, ""),
            (Status.WAITING, HN),
            (Status.CLAIMED, HN),
            (Status.DONE, HN),
            (Status.REPORTED, CO),
        }
    ),
    "rate": frozenset(
        {(Status.DONE, HN), (Status.REPORTED, CO), (Status.CLOSED, HN), (Status.CLOSED, CO)}
    ),
    "reopen": frozenset(
        {
            (Status.DONE, HN),
            (Status.DONE, CO),
            (Status.REPORTED, CO),
            (Status.CLOSED, HN),
            (Status.CLOSED, CO),
        }
    ),
}
ERRAND_MOVES: dict[str, frozenset[str]] = {
    "accept": frozenset({ErrandStatus.ORDERED}),
    "assign": frozenset({ErrandStatus.ACCEPTED, ErrandStatus.ASSIGNED}),
    "pick_up": frozenset({ErrandStatus.ASSIGNED}),
    "deliver": frozenset({ErrandStatus.PICKED_UP}),
    "confirm": frozenset({ErrandStatus.DELIVERED}),
    "cancel": frozenset({ErrandStatus.ORDERED, ErrandStatus.ACCEPTED, ErrandStatus.ASSIGNED}),
}
# What a household may still cancel itself (nobody has set out with the goods yet).
HOUSEHOLD_MAY_CANCEL = frozenset({ErrandStatus.ORDERED, ErrandStatus.ACCEPTED})

REQUEST_FIELDS = (
    "status",
    "track",
    "meeting_id",
    "assignee",
    "due_on",
    "result",
    "report_meeting_id",
    "report_note",
    "rating",
    "reopen_count",
    "claimed_by_id",
)
ERRAND_FIELDS = ("status", "courier_id", "proof", "to_unit_door", "rating", "cancel_reason")

MAX_ITEMS = 20


def move_label(action: str) -> str:
    labels = {
        "triage": _("triage it"),
        "claim": _("claim it"),
        "done": _("record it as done"),
        "assign": _("assign it"),
        "report_back": _("report it back"),
        "close": _("close it"),
        "rate": _("rate it"),
        "reopen": _("reopen it"),
        "accept": _("accept it"),
        "pick_up": _("mark it picked up"),
        "deliver": _("mark it delivered"),
        "confirm": _("confirm it"),
        "cancel": _("cancel it"),
    }
    return labels[action]


def request_allows(request: Request, action: str) -> bool:
    """Whether `action` may start from the request's current state (the pages ask this)."""
    if (request.status, request.track) not in REQUEST_MOVES[action]:
        return False
    if action == "rate":
        return request.rating is None
    if action == "reopen":
        return request.reopen_count == 0
    return True


def _state_label(request: Request) -> str:
    status = Status(request.status).label
    return f"{status} · {Track(request.track).label}" if request.track else str(status)


def _refuse_request(request: Request, action: str) -> None:
    """Raise the reason `action` cannot start from the request's state (if it cannot)."""
    if request_allows(request, action):
        return
    if action == "rate" and request.rating is not None:
        raise Conflict(_("This request has already been rated."), field="rating")
    if action == "reopen" and request.reopen_count:
        raise DomainError(
            _("A request can be reopened only once; this one was reopened before."), field="status"
        )
    if action == "close" and request.track == CO and request.status != Status.CLOSED:
        raise DomainError(
            _(
                "A consult-and-assign request closes only after its result has "
                "been reported back at a meeting."
            ),
            field="status",
        )
    if action in ("rate", "reopen") and request.status not in (
        Status.DONE,
        Status.REPORTED,
        Status.CLOSED,
    ):
        raise DomainError(
            _("Cannot %(action)s: it has no result yet (it is “%(state)s”).")
            % {"action": move_label(action), "state": _state_label(request)},
            field="status",
        )
    raise DomainError(
        _("Cannot %(action)s: the request is “%(state)s”.")
        % {"action": move_label(action), "state": _state_label(request)},
        field="status",
    )


def _refuse_errand(errand: Errand, action: str) -> None:
    if errand.status in ERRAND_MOVES[action]:
        return
    raise DomainError(
        _("Cannot %(action)s: the errand is “%(state)s”.")
        % {"action": move_label(action), "state": ErrandStatus(errand.status).label},
        field="status",
    )


def _now(at: dt.datetime | None) -> dt.datetime:
    return at or timezone.now()


def _lock(obj: M) -> M:
    """The row again, locked until the transaction ends: two devices sending the same step
    queue up (PostgreSQL; SQLite's immediate transactions already serialise writers)."""
    return type(obj).objects.select_for_update().get(pk=obj.pk)


def _who(actor: Actor, link: HouseholdLink | None) -> str:
    if link is not None:
        return f"link:{link.pk}"
    return f"user:{getattr(actor, 'pk', None)}"


def _replayed(client_id: uuid.UUID | None, action: str, obj: models.Model, who: str) -> bool:
    """True when this step was already applied with this client id (a retry)."""
    if client_id is None:
        return False
    found = Submission.objects.filter(client_id=client_id).first()
    if found is None:
        return False
    if (found.action, found.object_type, found.object_id, found.actor) != (
        action,
        history.object_type(obj),
        obj.pk,
        who,
    ):
        raise Conflict(_("This client id was already used for another write."), field="client_id")
    return True


def _submitted(client_id: uuid.UUID | None, action: str, obj: models.Model, who: str) -> None:
    if client_id is not None:
        Submission.objects.create(
            client_id=client_id,
            action=action,
            object_type=history.object_type(obj),
            object_id=obj.pk,
            actor=who,
        )


def _source(link: HouseholdLink | None, source: str) -> str:
    return "resident" if link is not None else source


# --------------------------------------------------------------------------- photos


def _photos_save(
    photos: Sequence[CheckedPhoto],
    *,
    kind: str,
    at: dt.datetime,
    actor: Actor,
    request: Request | None = None,
    errand: Errand | None = None,
) -> list[Photo]:
    saved = []
    owner = request or errand
    for item in photos:
        photo = Photo(
            request=request,
            errand=errand,
            kind=kind,
            content_type=item.content_type,
            size=item.size,
            uploaded_at=at,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        photo.locate(owner)
        photo.file.save("photo", item.content, save=False)
        photo.save()
        saved.append(photo)
    return saved


# --------------------------------------------------------------------------- requests


def _place(household: Household | None, node: Node | None) -> Node:
    if household is not None:
        return household.unit
    if node is None:
        raise DomainError(_("Say where: a household or a place in the tree."), field="node")
    return node


def _text(
    value: str, field: str, label_required: str | None, limit: int, problems: list[Problem]
) -> str:
    value = (value or "").strip()
    if label_required and not value:
        problems.append(Problem(field, label_required))
    elif len(value) > limit:
        problems.append(Problem(field, _("Longer than %(n)d characters.") % {"n": limit}))
    return value


@transaction.atomic
def request_create(
    *,
    actor: Actor,
    channel: str,
    category: str,
    title: str,
    household: Household | None = None,
    node: Node | None = None,
    urgency: str = Urgency.NORMAL,
    description: str = "",
    contact_phone: str = "",
    raised_by: Resident | None = None,
    photos: Sequence[CheckedPhoto] = (),
    client_id: uuid.UUID | None = None,
    link: HouseholdLink | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Request:
    """Collect a request at a household or a node; it waits for triage. A retry with the same
    client id returns the request the first one made."""
    at = _now(at)
    if link is not None:
        household, channel = link.household, Channel.RESIDENT_PAGE

    def create() -> Request:
        problems: list[Problem] = []
        clean_title = _text(
            title, "title", _("Say in a few words what the problem is."), 120, problems
        )
        clean_description = _text(description, "description", None, 4000, problems)
        if channel not in Channel.values:
            problems.append(Problem("channel", _("Unknown channel.")))
        if category not in Category.values:
            problems.append(Problem("category", _("Unknown category.")))
        if urgency not in Urgency.values:
            problems.append(Problem("urgency", _("Unknown urgency.")))
        phone = (contact_phone or "").strip()
        if phone:
            try:
                phone = normalise_mobile(phone)
            except ValidationError as error:
                problems.append(Problem("contact_phone", error.messages[0]))
        if household is None and node is None:
            problems.append(Problem("node", _("Say where: a household or a place in the tree.")))
        if raised_by is not None and (household is None or raised_by.household_id != household.pk):
            problems.append(Problem("raised_by", _("This resident is not of this household.")))
        if problems:
            raise DomainError(problems)
        place = _place(household, node)
        request = Request(
            household=household,
            node=place,
            raised_by=raised_by,
            channel=channel,
            category=category,
            urgency=urgency,
            title=clean_title,
            description=clean_description,
            contact_phone=phone,
            created_at=at,
            created_by=actor
            if link is None and getattr(actor, "is_authenticated", False)
            else None,
            client_id=client_id,
        )
        request.locate(place)
        request.save()
        _photos_save(photos, kind=PhotoKind.REPORT, at=at, actor=actor, request=request)
        history.record(
            actor if link is None else None,
            request,
            "create",
            {
                "title": [None, clean_title],
                "category": [None, category],
                "channel": [None, channel],
                "urgency": [None, urgency],
                "status": [None, Status.NEW.value],
                "photo_count": [None, len(photos)],
            },
            source=_source(link, source),
        )
        return request

    request, _created = create_once(Request, client_id, link or actor, create)
    return request


def next_meeting(community_id: int | None, *, after: dt.datetime | None = None) -> Meeting | None:
    """The community's next planned meeting (the earliest planned, after `after` if given)."""
    if community_id is None:
        return None
    meetings = Meeting.objects.filter(community_id=community_id, status=MeetingStatus.PLANNED)
    if after is not None:
        meetings = meetings.filter(starts_at__gt=after)
    return meetings.order_by("starts_at", "pk").first()


@transaction.atomic
def request_triage(
    *,
    actor: Actor,
    request: Request,
    track: str,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Request:
    """Choose the track: handle-now (waits to be claimed) or consult-and-assign (onto the
    agenda of the community's next planned meeting, or of the next one scheduled)."""
    request = _lock(request)
    _refuse_request(request, "triage")
    if track not in Track.values:
        raise DomainError(_("Choose handle-now or consult-and-assign."), field="track")
    if track == CO and request.community_id is None:
        raise DomainError(
            _("Only a request inside a community can go to its meeting."), field="track"
        )
    at = _now(at)
    before = history.snapshot(request, REQUEST_FIELDS)
    request.track, request.triaged_at, request.triaged_by = track, at, actor
    if track == HN:
        request.status = Status.WAITING
    else:
        request.status = Status.ON_AGENDA
        request.meeting = next_meeting(request.community_id)
    request.save()
    history.record_update(actor, request, before, REQUEST_FIELDS, source=source)
    return request


@transaction.atomic
def request_claim(
    *,
    actor: Actor,
    request: Request,
    at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> Request:
    """A handle-now request taken by the acting login."""
    request = _lock(request)
    who = _who(actor, None)
    if _replayed(client_id, "request_claim", request, who):
        return request
    _refuse_request(request, "claim")
    before = history.snapshot(request, REQUEST_FIELDS)
    request.status, request.claimed_by, request.claimed_at = Status.CLAIMED, actor, _now(at)
    request.save()
    _submitted(client_id, "request_claim", request, who)
    history.record_update(actor, request, before, REQUEST_FIELDS, source=source)
    return request


@transaction.atomic
def request_done(
    *,
    actor: Actor,
    request: Request,
    result: str,
    photos: Sequence[CheckedPhoto] = (),
    at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> Request:
    """The work is done: the result in words, with photos as evidence where there are any.
    A handle-now request then waits for the resident's rating; a consult-and-assign one for
    its report-back at the next meeting."""
    request = _lock(request)
    who = _who(actor, None)
    if _replayed(client_id, "request_done", request, who):
        return request
    _refuse_request(request, "done")
    problems: list[Problem] = []
    result = _text(
        result, "result", _("Say what was done: a request needs a result."), 4000, problems
    )
    if problems:
        raise DomainError(problems)
    at = _now(at)
    before = history.snapshot(request, REQUEST_FIELDS)
    request.status, request.result, request.done_at, request.done_by = (
        Status.DONE,
        result,
        at,
        actor,
    )
    request.save()
    _photos_save(photos, kind=PhotoKind.EVIDENCE, at=at, actor=actor, request=request)
    _submitted(client_id, "request_done", request, who)
    history.record_update(
        actor,
        request,
        before,
        REQUEST_FIELDS,
        source=source,
        extra={"evidence_photos": [None, len(photos)]} if photos else None,
    )
    return request


@transaction.atomic
def request_assign(
    *,
    actor: Actor,
    request: Request,
    assignee: str,
    due_on: dt.date,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Request:
    """At the meeting: who took the item and by when it is to be done."""
    request = _lock(request)
    _refuse_request(request, "assign")
    problems: list[Problem] = []
    assignee = _text(assignee, "assignee", _("Say who took it."), 100, problems)
    if request.meeting_id is None:
        problems.append(
            Problem(
                "meeting",
                _(
                    "The request is not on a meeting's agenda yet: "
                    "schedule the community's next meeting."
                ),
            )
        )
    elif due_on is None or due_on < timezone.localdate(request.meeting.starts_at):
        problems.append(Problem("due_on", _("The due date cannot be before the meeting.")))
    if problems:
        raise DomainError(problems)
    before = history.snapshot(request, REQUEST_FIELDS)
    request.status, request.assignee, request.due_on, request.assigned_at = (
        Status.ASSIGNED,
        assignee,
        due_on,
        _now(at),
    )
    request.save()
    history.record_update(actor, request, before, REQUEST_FIELDS, source=source)
    return request


@transaction.atomic
def request_report_back(
    *,
    actor: Actor,
    request: Request,
    meeting: Meeting,
    note: str = "",
    at: dt.datetime | None = None,
    source: str = "web",
) -> Request:
    """At a later meeting of the same community: the result of an assigned item reported."""
    request = _lock(request)
    _refuse_request(request, "report_back")
    if meeting.community_id != request.community_id:
        raise DomainError(
            _("Report back at a meeting of the request's own community."), field="meeting"
        )
    if request.meeting is not None and meeting.starts_at <= request.meeting.starts_at:
        raise DomainError(
            _("The result is reported back at a meeting after the one that assigned it."),
            field="meeting",
        )
    problems: list[Problem] = []
    note = _text(note, "report_note", None, 2000, problems)
    if problems:
        raise DomainError(problems)
    before = history.snapshot(request, REQUEST_FIELDS)
    request.status, request.report_meeting, request.report_note, request.reported_at = (
        Status.REPORTED,
        meeting,
        note,
        _now(at),
    )
    request.save()
    history.record_update(actor, request, before, REQUEST_FIELDS, source=source)
    return request


@transaction.atomic
def request_close(
    *,
    actor: Actor,
    request: Request,
    result: str = "",
    at: dt.datetime | None = None,
    source: str = "web",
) -> Request:
    """Close a request. It needs a result: the one recorded, or one given now (a request
    answered at once, a duplicate, one outside the community's remit)."""
    request = _lock(request)
    _refuse_request(request, "close")
    problems: list[Problem] = []
    result = _text(result, "result", None, 4000, problems)
    if problems:
        raise DomainError(problems)
    if not result and not request.result:
        raise DomainError(_("A request cannot close without a result."), field="result")
    at = _now(at)
    before = history.snapshot(request, REQUEST_FIELDS)
    if result:
        request.result = result
    if not request.track:  # answered at triage: handled at once
        request.track, request.triaged_at, request.triaged_by = HN, at, actor
    if request.done_at is None or request.status in (Status.WAITING, Status.CLAIMED):
        request.done_at, request.done_by = at, actor
    request.status, request.closed_at, request.closed_by = Status.CLOSED, at, actor
    request.save()
    history.record_update(actor, request, before, REQUEST_FIELDS, source=source)
    return request


@transaction.atomic
def request_rate(
    *,
    request: Request,
    rating: int,
    comment: str = "",
    actor: Actor = None,
    link: HouseholdLink | None = None,
    client_id: uuid.UUID | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Request:
    """The resident's rating, 1 to 5 (through their page, or taken down by staff). Rating a
    request that has its result closes it."""
    request = _lock(request)
    who = _who(actor, link)
    if _replayed(client_id, "request_rate", request, who):
        return request
    _refuse_request(request, "rate")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise DomainError(_("Rate from 1 to 5."), field="rating")
    problems: list[Problem] = []
    comment = _text(comment, "rating_comment", None, 300, problems)
    if problems:
        raise DomainError(problems)
    at = _now(at)
    before = history.snapshot(request, REQUEST_FIELDS)
    request.rating, request.rating_comment, request.rated_at = rating, comment, at
    if request.status != Status.CLOSED:
        request.status, request.closed_at, request.closed_by = (
            Status.CLOSED,
            at,
            (actor if link is None else None),
        )
    request.save()
    _submitted(client_id, "request_rate", request, who)
    history.record_update(
        actor if link is None else None,
        request,
        before,
        REQUEST_FIELDS,
        source=_source(link, source),
    )
    return request


@transaction.atomic
def request_reopen(
    *,
    request: Request,
    reason: str,
    actor: Actor = None,
    link: HouseholdLink | None = None,
    client_id: uuid.UUID | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Request:
    """The resident is not satisfied: reopened once, with the reason. Handle-now goes back to
    be claimed again; consult-and-assign back onto the next meeting's agenda."""
    request = _lock(request)
    who = _who(actor, link)
    if _replayed(client_id, "request_reopen", request, who):
        return request
    _refuse_request(request, "reopen")
    problems: list[Problem] = []
    reason = _text(reason, "reason", _("Say why the problem is not solved."), 1000, problems)
    if problems:
        raise DomainError(problems)
    at = _now(at)
    before = history.snapshot(request, REQUEST_FIELDS)
    request.reopen_count += 1
    request.reopen_reason, request.reopened_at = reason, at
    request.rating, request.rating_comment, request.rated_at = None, "", None
    request.closed_at = request.closed_by = None
    if request.track == HN:
        request.status, request.claimed_by, request.claimed_at = Status.WAITING, None, None
    else:
        request.status = Status.ON_AGENDA
        request.meeting = next_meeting(request.community_id, after=at)
        request.assignee, request.due_on, request.assigned_at = "", None, None
        request.report_meeting, request.report_note, request.reported_at = None, "", None
    request.save()
    _submitted(client_id, "request_reopen", request, who)
    history.record_update(
        actor if link is None else None,
        request,
        before,
        REQUEST_FIELDS,
        source=_source(link, source),
        extra={"reopen_reason": [None, reason]},
    )
    return request


# --------------------------------------------------------------------------- meetings


@dataclass(frozen=True)
class AttendeeInput:
    category: str
    name: str
    organisation: str = ""


@transaction.atomic
def meeting_schedule(
    *,
    actor: Actor,
    community: Node,
    title: str,
    starts_at: dt.datetime,
    place: str = "",
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> Meeting:
    """Plan a community's issue-talk meeting. Consult-and-assign requests waiting for a
    meeting join its agenda."""

    def create() -> Meeting:
        problems: list[Problem] = []
        clean_title = _text(title, "title", _("Give the meeting a title."), 120, problems)
        clean_place = _text(place, "place", None, 120, problems)
        if community.level != "community":
            problems.append(Problem("community", _("A meeting belongs to a community.")))
        if starts_at is None:
            problems.append(Problem("starts_at", _("Give the date and time.")))
        if problems:
            raise DomainError(problems)
        meeting = Meeting(
            node=community,
            title=clean_title,
            starts_at=starts_at,
            place=clean_place,
            created_by=actor,
            client_id=client_id,
        )
        meeting.locate(community)
        meeting.save()
        waiting = Request.objects.filter(
            community_id=community.pk, status=Status.ON_AGENDA, meeting__isnull=True
        )
        joined = list(waiting.values_list("pk", flat=True))
        waiting.update(meeting=meeting)
        history.record(
            actor,
            meeting,
            "create",
            {
                "title": [None, clean_title],
                "starts_at": [None, starts_at.isoformat()],
                "agenda_items": [None, len(joined)],
            },
            source=source,
        )
        for request in Request.objects.filter(pk__in=joined):
            history.record(
                actor, request, "update", {"meeting_id": [None, meeting.pk]}, source=source
            )
        return meeting

    meeting, _created = create_once(Meeting, client_id, actor, create)
    return meeting


@transaction.atomic
def meeting_record(
    *,
    actor: Actor,
    meeting: Meeting,
    attendees: Sequence[AttendeeInput],
    chair: str = "",
    recorder: str = "",
    notes: str = "",
    source: str = "web",
) -> Meeting:
    """The record of the meeting: who attended (by category), who chaired and took the
    minutes, and the minutes themselves. The list of attendees is replaced."""
    meeting = _lock(meeting)
    problems: list[Problem] = []
    chair = _text(chair, "chair", None, 50, problems)
    recorder = _text(recorder, "recorder", None, 50, problems)
    notes = _text(notes, "notes", None, 20000, problems)
    rows = []
    for i, a in enumerate(attendees, start=1):
        name = (a.name or "").strip()
        if not name:
            continue
        if a.category not in AttendeeCategory.values:
            problems.append(Problem("attendees", _("Unknown attendee category."), i))
        if len(name) > 50 or len(a.organisation or "") > 100:
            problems.append(Problem("attendees", _("Name or organisation is too long."), i))
        rows.append(
            Attendee(
                meeting=meeting,
                category=a.category,
                name=name,
                organisation=(a.organisation or "").strip(),
            )
        )
    if problems:
        raise DomainError(problems)
    before = {
        "chair": meeting.chair,
        "recorder": meeting.recorder,
        "attendee_count": meeting.attendees.count(),
        "notes_length": len(meeting.notes),
    }
    meeting.chair, meeting.recorder, meeting.notes = chair, recorder, notes
    meeting.save()
    meeting.attendees.all().delete()
    Attendee.objects.bulk_create(rows)
    after = {
        "chair": chair,
        "recorder": recorder,
        "attendee_count": len(rows),
        "notes_length": len(notes),
    }
    history.record(actor, meeting, "update", history.diff(before, after), source=source)
    return meeting


@transaction.atomic
def meeting_hold(
    *, actor: Actor, meeting: Meeting, at: dt.datetime | None = None, source: str = "web"
) -> Meeting:
    """Mark the meeting held. It needs its attendees. Agenda items nobody took move on to the
    next planned meeting (or wait for the next one scheduled)."""
    meeting = _lock(meeting)
    if meeting.status != MeetingStatus.PLANNED:
        raise DomainError(_("This meeting has already been held."), field="status")
    if not meeting.attendees.exists():
        raise DomainError(
            _("Record who attended before marking the meeting held."), field="attendees"
        )
    at = _now(at)
    meeting.status, meeting.held_at = MeetingStatus.HELD, at
    meeting.save()
    following = next_meeting(meeting.community_id, after=meeting.starts_at)
    left = list(Request.objects.filter(meeting=meeting, status=Status.ON_AGENDA))
    for request in left:
        request.meeting = following
        history.record(
            actor,
            request,
            "update",
            {"meeting_id": [meeting.pk, following.pk if following else None]},
            source=source,
        )
    Request.objects.bulk_update(left, ["meeting"])
    history.record(
        actor,
        meeting,
        "update",
        {
            "status": [MeetingStatus.PLANNED.value, MeetingStatus.HELD.value],
            "carried_over": [None, len(left)],
        },
        source=source,
    )
    return meeting


# --------------------------------------------------------------------------- errands


@dataclass(frozen=True)
class ItemInput:
    name: str
    quantity: str = ""


def delivery_code_make() -> str:
    return f"{secrets.randbelow(10_000):04d}"


def sealed_at(located) -> bool:
    """Whether a household (an errand, any located row) is under a sealed control area
    (`incidents`): its errands go to the unit door."""
    return level_over_rows([located])[0] == ControlLevel.SEALED


OPEN_ERRANDS = (
    ErrandStatus.ORDERED,
    ErrandStatus.ACCEPTED,
    ErrandStatus.ASSIGNED,
    ErrandStatus.PICKED_UP,
)


def response_delivery_open(*, actor, bundle, task) -> Opened:
    """The outbreak response's delivery task: the open errands of the sealed area go to the
    unit door from now (new ones do by themselves, reading the control areas)."""
    node = bundle.node
    where = {f"{node.level}_id": node.pk}
    moved = Errand.objects.filter(**where, status__in=OPEN_ERRANDS).update(to_unit_door=True)
    households = Household.objects.filter(**where).count()
    return Opened(
        ref_id=None,
        note=_("%(households)s households; %(errands)s open errands to the unit door.")
        % {"households": households, "errands": moved},
    )


@transaction.atomic
def errand_order(
    *,
    household: Household,
    items: Sequence[ItemInput],
    urgency: str,
    note: str = "",
    payment_note: str = "",
    actor: Actor = None,
    link: HouseholdLink | None = None,
    raised_by: Resident | None = None,
    client_id: uuid.UUID | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Errand:
    """A household's order (from its own page, or taken down by staff). Medicine comes first
    on every list. A sealed building's errands go to the unit door."""
    at = _now(at)
    if link is not None:
        household = link.household

    def create() -> Errand:
        problems: list[Problem] = []
        clean = []
        for i, item in enumerate(items, start=1):
            name, quantity = (item.name or "").strip(), (item.quantity or "").strip()
            if not name:
                continue
            if len(name) > 100 or len(quantity) > 30:
                problems.append(Problem("items", _("Item name or quantity is too long."), i))
            clean.append(ErrandItem(name=name, quantity=quantity))
        if not clean:
            problems.append(Problem("items", _("List at least one item.")))
        elif len(clean) > MAX_ITEMS:
            problems.append(Problem("items", _("At most %(n)d items.") % {"n": MAX_ITEMS}))
        if urgency not in ErrandUrgency.values:
            problems.append(Problem("urgency", _("Unknown urgency.")))
        clean_note = _text(note, "note", None, 300, problems)
        clean_payment = _text(payment_note, "payment_note", None, 200, problems)
        if raised_by is not None and raised_by.household_id != household.pk:
            problems.append(Problem("raised_by", _("This resident is not of this household.")))
        if problems:
            raise DomainError(problems)
        errand = Errand(
            household=household,
            raised_by=raised_by,
            urgency=urgency,
            priority=PRIORITY[ErrandUrgency(urgency)],
            note=clean_note,
            payment_note=clean_payment,
            to_unit_door=sealed_at(household),
            delivery_code=delivery_code_make(),
            created_at=at,
            created_by=actor
            if link is None and getattr(actor, "is_authenticated", False)
            else None,
            client_id=client_id,
        )
        errand.locate(household)
        errand.save()
        for item in clean:
            item.errand = errand
        ErrandItem.objects.bulk_create(clean)
        history.record(
            actor if link is None else None,
            errand,
            "create",
            {
                "status": [None, ErrandStatus.ORDERED.value],
                "urgency": [None, urgency],
                "ordered_items": [None, "、".join(str(i) for i in clean)],
                "to_unit_door": [None, errand.to_unit_door],
            },
            source=_source(link, source),
        )
        return errand

    errand, _created = create_once(Errand, client_id, link or actor, create)
    return errand


def _errand_step(
    errand: Errand,
    action: str,
    actor: Actor,
    link: HouseholdLink | None,
    client_id: uuid.UUID | None,
) -> tuple[Errand, bool, dict, str]:
    """Lock, replay check and legality check shared by every errand move."""
    errand = _lock(errand)
    who = _who(actor, link)
    if _replayed(client_id, f"errand_{action}", errand, who):
        return errand, True, {}, who
    _refuse_errand(errand, action)
    return errand, False, history.snapshot(errand, ERRAND_FIELDS), who


def _errand_saved(
    errand: Errand,
    action: str,
    actor: Actor,
    link: HouseholdLink | None,
    client_id: uuid.UUID | None,
    before: dict,
    who: str,
    source: str,
) -> Errand:
    errand.save()
    _submitted(client_id, f"errand_{action}", errand, who)
    history.record_update(
        actor if link is None else None, errand, before, ERRAND_FIELDS, source=_source(link, source)
    )
    return errand


@transaction.atomic
def errand_accept(
    *,
    actor: Actor,
    errand: Errand,
    at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> Errand:
    """The community takes the order on."""
    errand, replay, before, who = _errand_step(errand, "accept", actor, None, client_id)
    if replay:
        return errand
    errand.status, errand.accepted_at = ErrandStatus.ACCEPTED, _now(at)
    errand.to_unit_door = sealed_at(errand)
    return _errand_saved(errand, "accept", actor, None, client_id, before, who, source)


COURIER_KINDS = (PersonKind.VOLUNTEER, PersonKind.PARTY_MEMBER, PersonKind.CADRE)


@transaction.atomic
def errand_assign(
    *,
    actor: Actor,
    errand: Errand,
    courier: Person,
    at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> Errand:
    """Give the errand to a volunteer or party member (or hand it to another before pickup)."""
    errand, replay, before, who = _errand_step(errand, "assign", actor, None, client_id)
    if replay:
        return errand
    if courier.kind not in COURIER_KINDS and not courier.party_member:
        raise DomainError(
            _("A courier is a volunteer, a party member or a cadre."), field="courier"
        )
    if courier.pk == errand.courier_id:
        raise DomainError(_("The errand is already with this courier."), field="courier")
    errand.status, errand.courier, errand.assigned_at = ErrandStatus.ASSIGNED, courier, _now(at)
    errand.to_unit_door = sealed_at(errand)
    return _errand_saved(errand, "assign", actor, None, client_id, before, who, source)


@transaction.atomic
def errand_pick_up(
    *,
    actor: Actor,
    errand: Errand,
    at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> Errand:
    """The courier has the goods."""
    errand, replay, before, who = _errand_step(errand, "pick_up", actor, None, client_id)
    if replay:
        return errand
    errand.status, errand.picked_up_at = ErrandStatus.PICKED_UP, _now(at)
    return _errand_saved(errand, "pick_up", actor, None, client_id, before, who, source)


@transaction.atomic
def errand_deliver(
    *,
    actor: Actor,
    errand: Errand,
    code: str = "",
    photo: CheckedPhoto | None = None,
    at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> Errand:
    """Delivered, with proof: the code the household shows, or a photo of the goods at the
    door (at the unit door for a sealed building)."""
    errand, replay, before, who = _errand_step(errand, "deliver", actor, None, client_id)
    if replay:
        return errand
    code = (code or "").strip()
    if not code and photo is None:
        raise DomainError(
            _("Proof of delivery: type the household's code or add a photo."), field="code"
        )
    if code and not constant_time_compare(code, errand.delivery_code):
        raise DomainError(_("This is not the household's code."), field="code")
    at = _now(at)
    errand.status, errand.delivered_at = ErrandStatus.DELIVERED, at
    errand.proof = Proof.CODE if code else Proof.PHOTO
    if photo is not None:
        _photos_save([photo], kind=PhotoKind.DELIVERY, at=at, actor=actor, errand=errand)
    return _errand_saved(errand, "deliver", actor, None, client_id, before, who, source)


@transaction.atomic
def errand_confirm(
    *,
    errand: Errand,
    rating: int | None = None,
    comment: str = "",
    actor: Actor = None,
    link: HouseholdLink | None = None,
    at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> Errand:
    """The household confirms it has the goods, and may rate the errand."""
    errand, replay, before, who = _errand_step(errand, "confirm", actor, link, client_id)
    if replay:
        return errand
    if rating is not None and not 1 <= rating <= 5:
        raise DomainError(_("Rate from 1 to 5."), field="rating")
    problems: list[Problem] = []
    comment = _text(comment, "rating_comment", None, 300, problems)
    if problems:
        raise DomainError(problems)
    errand.status, errand.confirmed_at = ErrandStatus.CONFIRMED, _now(at)
    errand.rating, errand.rating_comment = rating, comment
    return _errand_saved(errand, "confirm", actor, link, client_id, before, who, source)


@transaction.atomic
def errand_cancel(
    *,
    errand: Errand,
    reason: str,
    actor: Actor = None,
    link: HouseholdLink | None = None,
    at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> Errand:
    """Cancel before the goods are picked up (a household only before a courier has it)."""
    errand, replay, before, who = _errand_step(errand, "cancel", actor, link, client_id)
    if replay:
        return errand
    if link is not None and errand.status not in HOUSEHOLD_MAY_CANCEL:
        raise DomainError(
            _("A courier is already on the way: call the community to cancel."), field="status"
        )
    problems: list[Problem] = []
    reason = _text(reason, "reason", _("Say why it is cancelled."), 200, problems)
    if problems:
        raise DomainError(problems)
    errand.status, errand.cancelled_at, errand.cancel_reason = (
        ErrandStatus.CANCELLED,
        _now(at),
        reason,
    )
    return _errand_saved(errand, "cancel", actor, link, client_id, before, who, source)


# --------------------------------------------------------------------------- household links


LINK_SALT = "bastion.requests.household-link"


def link_token(link: HouseholdLink) -> str:
    """The secret of a link: its id and an HMAC of its nonce under the site's secret key."""
    mac = salted_hmac(LINK_SALT, f"{link.pk}:{link.nonce}", algorithm="sha256").digest()
    return f"{link.pk}-{base64.urlsafe_b64encode(mac[:18]).decode()}"


def link_from_token(token: str, *, touch: bool = True) -> HouseholdLink | None:
    """The active link a token opens, or None (unknown, forged or revoked)."""
    pk, _sep, _mac = (token or "").partition("-")
    if not pk.isdigit() or len(token) > 64:
        return None
    link = (
        HouseholdLink.objects.select_related("household", "household__unit", "household__building")
        .filter(pk=int(pk), revoked_at__isnull=True)
        .first()
    )
    if link is None or not constant_time_compare(link_token(link), token):
        return None
    if touch:
        now = timezone.now()
        if link.last_used_at is None or now - link.last_used_at > dt.timedelta(minutes=5):
            HouseholdLink.objects.filter(pk=link.pk).update(last_used_at=now)
    return link


def _new_link(household: Household, actor: Actor, at: dt.datetime) -> HouseholdLink:
    link = HouseholdLink(
        household=household,
        nonce=secrets.token_hex(16),
        created_at=at,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    link.locate(household)
    return link


@transaction.atomic
def link_issue(
    *,
    actor: Actor,
    household: Household,
    renew: bool = False,
    at: dt.datetime | None = None,
    source: str = "web",
) -> HouseholdLink:
    """The household's active link, made if it has none. `renew` revokes the current one
    first (a lost QR code): the old link stops working at once."""
    at = _now(at)
    current = (
        HouseholdLink.objects.select_for_update()
        .filter(household=household, revoked_at__isnull=True)
        .first()
    )
    if current is not None and not renew:
        return current
    if current is not None:
        _revoke(current, actor, at, source)
    link = _new_link(household, actor, at)
    link.save()
    history.record(
        actor,
        household,
        "update",
        {"resident_link": [current.pk if current else None, link.pk]},
        source=source,
    )
    return link


def _revoke(link: HouseholdLink, actor: Actor, at: dt.datetime, source: str) -> None:
    link.revoked_at, link.revoked_by = at, actor
    link.save(update_fields=["revoked_at", "revoked_by"])


@transaction.atomic
def link_revoke(
    *, actor: Actor, household: Household, at: dt.datetime | None = None, source: str = "web"
) -> bool:
    """End the household's link; answers whether there was one."""
    current = (
        HouseholdLink.objects.select_for_update()
        .filter(household=household, revoked_at__isnull=True)
        .first()
    )
    if current is None:
        return False
    _revoke(current, actor, _now(at), source)
    history.record(actor, household, "update", {"resident_link": [current.pk, None]}, source=source)
    return True


@transaction.atomic
def links_issue_many(
    *,
    actor: Actor,
    households: Iterable[Household],
    at: dt.datetime | None = None,
    source: str = "web",
) -> int:
    """Give every household without an active link one (a building's sheet of QR codes);
    answers how many were made."""
    at = _now(at)
    households = list(households)
    have = set(
        HouseholdLink.objects.filter(household__in=households, revoked_at__isnull=True).values_list(
            "household_id", flat=True
        )
    )
    made = [_new_link(h, actor, at) for h in households if h.pk not in have]
    HouseholdLink.objects.bulk_create(made)
    return len(made)


@transaction.atomic
def request_photos_add(
    *,
    request: Request,
    photos: Sequence[CheckedPhoto],
    kind: str,
    actor: Actor = None,
    link: HouseholdLink | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> list[Photo]:
    """Add photos to a request: the household to its own open request, staff the problem's
    photos or evidence of the work."""
    request = _lock(request)
    if kind not in (PhotoKind.REPORT, PhotoKind.EVIDENCE):
        raise DomainError(_("Unknown kind of photo."), field="kind")
    if link is not None and (kind != PhotoKind.REPORT or request.status == Status.CLOSED):
        raise DomainError(_("Photos can be added to an open request only."), field="photos")
    if not photos:
        raise DomainError(_("Add at least one photo."), field="photos")
    if request.photos.count() + len(photos) > 3 * MAX_PHOTOS:
        raise DomainError(_("This request has enough photos."), field="photos")
    saved = _photos_save(photos, kind=kind, at=_now(at), actor=actor, request=request)
    history.record(
        actor if link is None else None,
        request,
        "update",
        {"photo_count": [None, len(saved)]},
        source=_source(link, source),
    )
    return saved


# --------------------------------------------------------------------------- phones in full

# Whose phone a page may show in full: a request's contact, an errand's household or courier.
PHONES = {"request": ("contact",), "errand": ("household", "courier")}


def phone_reveal(*, user, subject: Request | Errand, whose: str, via: str = "web") -> str:
    """One phone in full where it is needed to call someone back: a request's contact phone,
    an errand's household (who ordered it, else the head) or its courier. Only roles that may
    reveal; each reveal logged (`core.privacy.personal_data_reveal`)."""
    kind = "request" if isinstance(subject, Request) else "errand"
    if whose not in PHONES[kind]:
        raise DomainError(_("No such phone on this record."), field="whose")
    if kind == "request":
        if not subject.contact_phone:
            raise DomainError(_("No phone was given with this request."), field="whose")
        name = subject.raised_by.name if subject.raised_by_id else _("request #%s") % subject.pk
        return personal_data_reveal(
            user=user, subject=subject, field="contact_phone", via=via, whose=name
        )
    person = errand_contact(subject) if whose == "household" else subject.courier
    if person is None or not person.phone:
        raise DomainError(_("There is no phone to show."), field="whose")
    return personal_data_reveal(user=user, subject=person, field="phone", via=via)
