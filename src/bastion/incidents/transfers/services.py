"""Every write of a transfer (转运): plan, depart, arrive, cancel. Keyword-only, transactional;
bad input is refused with a `DomainError` naming the field, and nothing is written."""

import datetime as dt
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history, scope
from bastion.core.errors import DomainError, Problem
from bastion.core.idempotency import create_once
from bastion.core.plates import plate_parse
from bastion.geo.identity import parse_document
from bastion.geo.models import DocKind, Household, Resident
from bastion.incidents.transfers.models import Destination, Reason, State, Transfer
from bastion.people.mobilization.models import Place, PlaceKind

# A time a little ahead of the server's clock is a phone's clock, not the future.
CLOCK_SKEW = dt.timedelta(minutes=5)
CREATED_FIELDS = (
    "name", "resident", "from_household", "from_place", "destination", "to_hospital",
    "to_place", "to_household", "reason", "source", "source_id", "plate", "escort",
    "planned_at", "state",
)  # fmt: skip
STATE_FIELDS = ("state", "departed_at", "arrived_at", "cancelled_at", "cancel_reason", "plate")


def _aware(at: dt.datetime | None) -> dt.datetime:
    """`at` (now when None) with a time zone: a time sent without one is local time."""
    at = at or timezone.now()
    return timezone.make_aware(at) if timezone.is_naive(at) else at


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _plate(raw: str, problems: list[Problem]) -> str:
    if not (raw or "").strip():
        return ""
    try:
        return plate_parse(raw).number
    except ValidationError as e:
        problems.append(Problem("plate", " ".join(e.messages)))
        return ""


def _not_future(at: dt.datetime, field: str, problems: list[Problem]) -> None:
    if at > timezone.now() + CLOCK_SKEW:
        problems.append(Problem(field, _("This time is in the future.")))


def transfer_plan(
    *,
    actor,
    destination: str,
    reason: str,
    resident: Resident | None = None,
    name: str = "",
    doc_kind: str = "",
    doc_number: str = "",
    phone: str = "",
    from_household: Household | None = None,
    from_place: Place | None = None,
    to_hospital: str = "",
    to_place: Place | None = None,
    to_household: Household | None = None,
    note: str = "",
    source: str = "",
    source_id: int | None = None,
    plate: str = "",
    escort: str = "",
    planned_at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
    via: str = "web",
) -> Transfer:
    """Plan a transfer of a resident (from their household unless said otherwise) or of a
    person not on the register (a name and a document), to a hospital, a quarantine site or
    home. Once per `client_id`: a retry returns the first transfer."""
    obj, _created = create_once(
        Transfer,
        client_id,
        actor,
        lambda: _plan(
            actor=actor,
            destination=destination,
            reason=reason,
            resident=resident,
            name=name,
            doc_kind=doc_kind,
            doc_number=doc_number,
            phone=phone,
            from_household=from_household,
            from_place=from_place,
            to_hospital=to_hospital,
            to_place=to_place,
            to_household=to_household,
            note=note,
            source=source,
            source_id=source_id,
            plate=plate,
            escort=escort,
            planned_at=planned_at,
            client_id=client_id,
            via=via,
        ),
    )
    return obj


@transaction.atomic
def _plan(*, actor, client_id, via, **kw) -> Transfer:
    problems: list[Problem] = []
    resident: Resident | None = kw["resident"]
    name = (kw["name"] or "").strip()
    doc_kind, doc_number = kw["doc_kind"] or "", (kw["doc_number"] or "").strip()
    if resident is not None:
        name = resident.name
        doc_kind, doc_number = "", ""
    else:
        if not name:
            problems.append(Problem("name", _("Give the person's name.")))
        if doc_kind not in DocKind.values or doc_kind == DocKind.NONE:
            problems.append(Problem("doc_kind", _("Choose the kind of document the person shows.")))
        else:
            try:
                doc_number = parse_document(doc_kind, doc_number).number
            except ValidationError as e:
                problems.append(Problem("doc_number", " ".join(e.messages)))
    from_household, from_place = kw["from_household"], kw["from_place"]
    if from_household is not None and from_place is not None:
        problems.append(
            Problem("from_place", _("A transfer starts from a household or a place, not both."))
        )
    if from_household is None and from_place is None:
        if resident is not None:
            from_household = resident.household
        else:
            problems.append(Problem("from_place", _("Say where the person is taken from.")))
    destination = kw["destination"]
    to_hospital = (kw["to_hospital"] or "").strip()
    to_place, to_household = kw["to_place"], kw["to_household"]
    if destination == Destination.HOSPITAL:
        to_place, to_household = None, None
        if not to_hospital:
            problems.append(Problem("to_hospital", _("Give the hospital's name.")))
    elif destination == Destination.QUARANTINE:
        to_hospital, to_household = "", None
        if to_place is None:
            problems.append(Problem("to_place", _("Choose the quarantine site.")))
        elif to_place.kind != PlaceKind.QUARANTINE_SITE:
            problems.append(
                Problem(
                    "to_place", _("%(place)s is not a quarantine site.") % {"place": to_place.name}
                )
            )
    elif destination == Destination.HOME:
        to_hospital, to_place = "", None
        if to_household is None and resident is not None:
            to_household = resident.household
        if to_household is None:
            problems.append(
                Problem("to_household", _("Choose the household the person goes home to."))
            )
    else:
        problems.append(Problem("destination", _("Choose a hospital, a quarantine site or home.")))
    if kw["reason"] not in Reason.values:
        problems.append(Problem("reason", _("Choose the reason for the transfer.")))
    plate = _plate(kw["plate"], problems)
    planned_at = _aware(kw["planned_at"])
    if problems:
        raise DomainError(problems)
    start = from_household or from_place
    end = to_household or to_place
    if actor is not None and not (
        scope.allows(actor, scope.CHANGE, start)
        or (end is not None and scope.allows(actor, scope.CHANGE, end))
    ):
        raise PermissionDenied(_("Neither end of this transfer is in your part of the tree."))
    transfer = Transfer(
        resident=resident,
        name=name[:50],
        doc_kind=doc_kind,
        doc_number=doc_number,
        phone=(kw["phone"] or "").strip()[:11],
        from_household=from_household,
        from_place=from_place,
        destination=destination,
        to_hospital=to_hospital[:100],
        to_place=to_place,
        to_household=to_household,
        reason=kw["reason"],
        note=(kw["note"] or "").strip()[:200],
        source=(kw["source"] or "")[:20],
        source_id=kw["source_id"],
        plate=plate,
        escort=(kw["escort"] or "").strip()[:100],
        planned_at=planned_at,
        created_by=_user(actor),
        client_id=client_id,
    )
    transfer.locate(start)
    transfer.save()
    history.record_created(_user(actor), transfer, CREATED_FIELDS, source=via)
    return transfer


def _locked(transfer: Transfer) -> Transfer:
    return Transfer.objects.select_for_update().get(pk=transfer.pk)


def _state_problem(transfer: Transfer) -> Problem:
    when = {
        State.ON_THE_WAY: transfer.departed_at,
        State.ARRIVED: transfer.arrived_at,
        State.CANCELLED: transfer.cancelled_at,
    }.get(transfer.state)
    message = _("This transfer is already %(state)s (%(at)s).") % {
        "state": transfer.get_state_display(),
        "at": timezone.localtime(when).strftime("%Y-%m-%d %H:%M") if when else "",
    }
    return Problem("state", message)


@transaction.atomic
def transfer_depart(
    *,
    actor,
    transfer: Transfer,
    at: dt.datetime | None = None,
    plate: str = "",
    escort: str = "",
    via: str = "web",
) -> Transfer:
    """The vehicle left with the person: planned → on the way. The plate is given here if
    it was not at planning; a departure is recorded once (a second one is refused)."""
    transfer = _locked(transfer)
    before = history.snapshot(transfer, STATE_FIELDS)
    problems: list[Problem] = []
    if transfer.state != State.PLANNED:
        problems.append(_state_problem(transfer))
    at = _aware(at)
    _not_future(at, "departed_at", problems)
    new_plate = _plate(plate, problems) or transfer.plate
    if not new_plate and not problems:
        problems.append(Problem("plate", _("Enter the vehicle's plate.")))
    if problems:
        raise DomainError(problems)
    transfer.state = State.ON_THE_WAY
    transfer.departed_at = at
    transfer.plate = new_plate
    if escort.strip():
        transfer.escort = escort.strip()[:100]
    transfer.save(update_fields=["state", "departed_at", "plate", "escort"])
    history.record_update(_user(actor), transfer, before, STATE_FIELDS, source=via)
    return transfer


@transaction.atomic
def transfer_arrive(
    *, actor, transfer: Transfer, at: dt.datetime | None = None, via: str = "web"
) -> Transfer:
    """The person was handed over at the destination: on the way → arrived."""
    transfer = _locked(transfer)
    before = history.snapshot(transfer, STATE_FIELDS)
    problems: list[Problem] = []
    if transfer.state == State.PLANNED:
        problems.append(Problem("state", _("This transfer has not departed yet.")))
    elif transfer.state != State.ON_THE_WAY:
        problems.append(_state_problem(transfer))
    at = _aware(at)
    _not_future(at, "arrived_at", problems)
    if transfer.departed_at is not None and at < transfer.departed_at:
        problems.append(
            Problem(
                "arrived_at",
                _("The arrival is before the departure (%(at)s).")
                % {"at": timezone.localtime(transfer.departed_at).strftime("%Y-%m-%d %H:%M")},
            )
        )
    if problems:
        raise DomainError(problems)
    transfer.state = State.ARRIVED
    transfer.arrived_at = at
    transfer.save(update_fields=["state", "arrived_at"])
    history.record_update(_user(actor), transfer, before, STATE_FIELDS, source=via)
    return transfer


@transaction.atomic
def transfer_cancel(
    *, actor, transfer: Transfer, reason: str, at: dt.datetime | None = None, via: str = "web"
) -> Transfer:
    """Call off a transfer not yet arrived, with the reason."""
    transfer = _locked(transfer)
    before = history.snapshot(transfer, STATE_FIELDS)
    problems: list[Problem] = []
    if transfer.state not in (State.PLANNED, State.ON_THE_WAY):
        problems.append(_state_problem(transfer))
    if not (reason or "").strip():
        problems.append(Problem("reason", _("Give the reason for cancelling.")))
    if problems:
        raise DomainError(problems)
    transfer.state = State.CANCELLED
    transfer.cancelled_at = _aware(at)
    transfer.cancel_reason = reason.strip()[:200]
    transfer.save(update_fields=["state", "cancelled_at", "cancel_reason"])
    history.record_update(_user(actor), transfer, before, STATE_FIELDS, source=via)
    return transfer
