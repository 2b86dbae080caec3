"""The service station's writes: a driver's visit logged from the phone form or the API (a
retry with its client id writes once), and the driver leaving."""

import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.checkpoints.checks import document_check
from bastion.checkpoints.loop.models import LoopPass
from bastion.checkpoints.loop.services import code_normalise
from bastion.checkpoints.station.models import MAX_MEALS, StationVisit
from bastion.core import history
from bastion.core.errors import DomainError, Problem
from bastion.core.idempotency import created_once
from bastion.core.plates import plate_parse
from bastion.people.mobilization.models import Place, PlaceKind

FUTURE_GRACE = dt.timedelta(minutes=5)


def _time(value, now, name: str, problems: list[Problem]) -> dt.datetime | None:
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > now + FUTURE_GRACE:
        problems.append(Problem(name, _("This time is in the future.")))
    return value


@created_once(StationVisit)
@transaction.atomic
def station_visit_record(
    *,
    actor,
    place: Place,
    plate: str = "",
    code: str = "",
    name: str = "",
    doc_kind: str = "",
    doc_number: str = "",
    arrived_at: dt.datetime | None = None,
    left_at: dt.datetime | None = None,
    rested: bool = False,
    meals: int = 0,
    tested: bool = False,
    result_at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
) -> StationVisit:
    """A driver's visit to the service station at `place` (a checkpoint), found by plate,
    closed-loop pass code or document. Every bad field is named; nothing is written."""
    problems: list[Problem] = []
    now = timezone.now()
    if place.kind != PlaceKind.CHECKPOINT:
        problems.append(Problem("place", _("A service station stands at a checkpoint.")))
    loop_pass = None
    if code.strip():
        loop_pass = (
            LoopPass.objects.select_related("occupant__entry")
            .filter(code=code_normalise(code))
            .first()
        )
        if loop_pass is None:
            problems.append(Problem("code", _("No pass with this code.")))
    number = ""
    if plate.strip():
        try:
            number = plate_parse(plate).number
        except ValidationError as error:
            problems.extend(Problem("plate", m) for m in error.messages)
    elif loop_pass is not None:
        number = loop_pass.occupant.entry.plate
    document = ""
    if doc_number.strip():
        try:
            document = document_check(doc_kind or "id_card", doc_number)
        except ValidationError as error:
            problems.extend(Problem("doc_number", m) for m in error.messages)
    if not (plate.strip() or code.strip() or doc_number.strip()):
        problems.append(
            Problem("plate", _("Enter the plate, the pass code or the driver's document."))
        )
    if not 0 <= meals <= MAX_MEALS:
        problems.append(Problem("meals", _("Between 0 and %(n)s meals.") % {"n": MAX_MEALS}))
    arrived = _time(arrived_at, now, "arrived_at", problems) or now
    left = _time(left_at, now, "left_at", problems)
    result = _time(result_at, now, "result_at", problems)
    if left is not None and left < arrived:
        problems.append(Problem("left_at", _("Left cannot be before arrived.")))
    if result is not None and not tested:
        problems.append(Problem("result_at", _("A result needs a test taken here.")))
    if problems:
        raise DomainError(problems)
    visit = StationVisit(
        place=place,
        plate=number,
        loop_pass=loop_pass,
        name=(name.strip() or (loop_pass.occupant.name if loop_pass else ""))[:50],
        doc_kind=(doc_kind or "id_card") if document else "",
        doc_number=document,
        arrived_at=arrived,
        left_at=left,
        rested=rested,
        meals=meals,
        tested=tested,
        result_at=result,
        entered_by=actor if getattr(actor, "is_authenticated", False) else None,
        client_id=client_id or uuid.uuid4(),
    )
    visit.locate(place)
    visit.save()
    history.record_created(actor, visit, ["plate", "arrived_at", "meals", "tested"])
    return visit


@transaction.atomic
def station_visit_leave(*, actor, visit: StationVisit, at: dt.datetime | None = None):
    """The driver left the station (once; a second tap changes nothing)."""
    at = at or timezone.now()
    if visit.left_at is not None:
        return visit
    if at < visit.arrived_at:
        raise DomainError(_("Left cannot be before arrived."), field="left_at")
    StationVisit.objects.filter(pk=visit.pk, left_at__isnull=True).update(left_at=at)
    visit.left_at = at
    history.record_update(actor, visit, {"left_at": None}, ["left_at"])
    return visit
