"""Every write of the home measures, keyword-only, transactional, refusing bad input with the
field named and nothing written: a measure placed (by the community, for a close contact from
the outbreak response, or by a quarantine site's hand-over home), the twice-daily reports (by the
grid chief or by the household from its own page), and the end of a measure."""

import datetime as dt
import uuid
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.checkpoints.checks import document_check, phone_check
from bastion.core.errors import Conflict, DomainError, Problem
from bastion.core.history import record_created, record_update, snapshot
from bastion.core.idempotency import created_once
from bastion.geo.models import Household, Node, Resident
from bastion.people.models import Post, PostRole
from bastion.quarantine.home.models import (
    HomeMeasure,
    HomeReport,
    MeasureKind,
    MeasureSource,
    Reporter,
)
from bastion.quarantine.models import Site
from bastion.quarantine.services import half_of, reading_check

HOME_LEVELS = ("community", "grid", "building", "unit")
MAX_DAYS = 60
MEASURE_FIELDS = ["kind", "starts_on", "ends_on", "source", "door_sensor", "grid_chief"]


def grid_chief_of(node: Node | Household | None):
    """The person holding the grid chief's post on the grid of `node` today (or None)."""
    grid_id = getattr(node, "grid_id", None)
    if grid_id is None:
        return None
    post = (
        Post.objects.filter(node_id=grid_id, role=PostRole.GRID_CHIEF, ended_on__isnull=True)
        .select_related("person")
        .first()
    )
    return post.person if post else None


def _dates_checked(starts_on, ends_on) -> list[Problem]:
    if not isinstance(starts_on, dt.date) or not isinstance(ends_on, dt.date):
        return [Problem("ends_on", _("Enter the start and the end day."))]
    if ends_on <= starts_on:
        return [Problem("ends_on", _("The end must be after the start."))]
    if (ends_on - starts_on).days > MAX_DAYS:
        return [Problem("ends_on", _("A home measure lasts at most 60 days."))]
    return []


def _lapsed_close(doc_kind: str, doc_number: str, *, before: dt.date) -> None:
    """Close the person's measures whose end day passed before `before` (at that end day's
    close), so that a new measure may follow one nobody closed."""
    for m in HomeMeasure.objects.filter(
        doc_kind=doc_kind, doc_number=doc_number, ended_at__isnull=True, ends_on__lt=before
    ):
        m.ended_at = timezone.make_aware(dt.datetime.combine(m.ends_on, dt.time(23, 59)))
        m.save(update_fields=["ended_at"])


@created_once(HomeMeasure)
@transaction.atomic
def measure_place(
    *,
    actor,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    reason: str,
    source: str = MeasureSource.COMMUNITY,
    resident: Resident | None = None,
    household: Household | None = None,
    node: Node | None = None,
    name: str = "",
    doc_kind: str = "id_card",
    doc_number: str = "",
    phone: str = "",
    door_sensor: bool = False,
    stay=None,
    client_id: uuid.UUID | None = None,
) -> HomeMeasure:
    """Place a person under home isolation or home health monitoring from `starts_on` to
    `ends_on`: a registered resident (their household is the home), or a person named with
    their document on a household or a home node (community, grid, building or unit). The grid
    chief responsible is the one on the home's grid."""
    problems = []
    if kind not in MeasureKind.values:
        problems.append(Problem("kind", _("Choose home isolation or home health monitoring.")))
    if source not in MeasureSource.values:
        problems.append(Problem("source", _("Choose where the measure comes from.")))
    if source == MeasureSource.RELEASE and stay is None:
        problems.append(Problem("source", _("Only a quarantine site's hand-over comes from one.")))
    problems += _dates_checked(starts_on, ends_on)
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        problems.append(Problem("reason", _("Say why (at most 200 characters).")))
    if resident is not None:
        household = resident.household
        if not doc_number:
            name = resident.name
            doc_kind = "id_card" if resident.id_number else resident.doc_kind
            doc_number = resident.id_number or resident.doc_number
        phone = phone or resident.phone
    home = household or node
    if home is None:
        problems.append(Problem("household_id", _("Choose the household or the home.")))
    elif household is None and node.level not in HOME_LEVELS:
        problems.append(Problem("node_id", _("The home is a community, grid, building or unit.")))
    name = (name or "").strip()
    if not name or len(name) > 50:
        problems.append(Problem("name", _("Enter the name (at most 50 characters).")))
    try:
        doc_number = document_check(doc_kind, doc_number)
    except ValidationError as error:
        problems.extend(Problem("doc_number", m) for m in error.messages)
    try:
        phone = phone_check(phone or "")
    except ValidationError as error:
        problems.extend(Problem("phone", m) for m in error.messages)
    if problems:
        raise DomainError(problems)
    _lapsed_close(doc_kind, doc_number, before=starts_on)
    if HomeMeasure.objects.filter(
        doc_kind=doc_kind, doc_number=doc_number, ended_at__isnull=True
    ).exists():
        raise Conflict(_("This person is under a home measure already."), field="doc_number")
    measure = HomeMeasure(
        kind=kind, name=name, doc_kind=doc_kind, doc_number=doc_number, phone=phone,
        resident=resident, household=household,
        node=household.unit if household is not None else node,
        starts_on=starts_on, ends_on=ends_on, reason=reason, source=source, stay=stay,
        door_sensor=bool(door_sensor), grid_chief=grid_chief_of(home),
        created_by=actor if getattr(actor, "pk", None) else None, client_id=client_id,
    )  # fmt: skip
    measure.locate(home)
    measure.save()
    record_created(actor, measure, MEASURE_FIELDS)
    return measure


def measure_from_release(*, actor, stay, at: dt.datetime | None = None) -> HomeMeasure:
    """The hand-over hook of a quarantine release: the person goes on home health monitoring
    for the site's home days, from the day of the hand-over, at their household if they are a
    registered resident, else on the home node the site handed them to."""
    at = at or timezone.now()
    already = HomeMeasure.objects.filter(
        doc_kind=stay.doc_kind, doc_number=stay.doc_number, ended_at__isnull=True,
        ends_on__gte=timezone.localdate(at),
    ).first()  # fmt: skip
    if already is not None:  # under a home measure already (e.g. entered by the community)
        return already
    terms = Site.objects.filter(place_id=stay.place_id).first()
    days = terms.home_days if terms is not None else 7
    start = timezone.localdate(at)
    resident = stay.resident
    return measure_place(
        actor=actor,
        kind=MeasureKind.MONITORING,
        starts_on=start,
        ends_on=start + dt.timedelta(days=max(days, 1)),
        reason=_("Released from %(site)s") % {"site": stay.place},
        source=MeasureSource.RELEASE,
        resident=resident,
        node=None if resident is not None else stay.home_node,
        name=stay.name,
        doc_kind=stay.doc_kind,
        doc_number=stay.doc_number,
        phone=stay.phone,
        stay=stay,
    )


def measure_current(measure: HomeMeasure, day: dt.date) -> bool:
    return measure.ended_at is None and measure.starts_on <= day <= measure.ends_on


@transaction.atomic
def measure_end(
    *, actor, measure: HomeMeasure, reason: str = "", at: dt.datetime | None = None
) -> HomeMeasure:
    """Close a measure: on or after its end day, or before it only with a reason."""
    at = at or timezone.now()
    measure = HomeMeasure.objects.select_for_update().get(pk=measure.pk)
    if measure.ended_at is not None:
        raise Conflict(_("This home measure has ended already."), field="measure_id")
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise DomainError(_("At most 200 characters."), field="reason")
    if timezone.localdate(at) < measure.ends_on and not reason:
        raise DomainError(
            _("The planned end is %(day)s: say why the measure ends before it.")
            % {"day": measure.ends_on.isoformat()},
            field="reason",
        )
    before = snapshot(measure, ["ended_at", "end_reason"])
    measure.ended_at, measure.end_reason = at, reason
    measure.save(update_fields=["ended_at", "end_reason"])
    record_update(actor, measure, before, ["ended_at", "end_reason"])
    return measure


@created_once(HomeReport)
@transaction.atomic
def report_record(
    *,
    actor,
    measure: HomeMeasure,
    temperature,
    symptoms: Sequence[str] = (),
    day: dt.date | None = None,
    half: str | None = None,
    reporter: str = Reporter.GRID_CHIEF,
    at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
) -> HomeReport:
    """One of the twice-daily reports of a person at home: temperature (34–43 °C) and symptoms,
    abnormal from 37.3 °C or with any symptom. Refused once the measure has ended, for a day
    outside it, and for a half-day reported already. `actor` is a login, or the household's
    link when the household reports from its own page."""
    at = at or timezone.now()
    day = day or timezone.localdate(at)
    half = half or half_of(at)
    who = [] if reporter in Reporter.values else [Problem("reporter", _("Choose who reports."))]
    reading, coded, abnormal = reading_check(
        temperature=temperature, symptoms=symptoms, half=half, problems=who
    )
    measure = HomeMeasure.objects.select_for_update().get(pk=measure.pk)
    if measure.ended_at is not None or timezone.localdate(at) > measure.ends_on:
        raise Conflict(
            _("The home measure of %(name)s has ended.") % {"name": measure}, field="measure_id"
        )
    if day < measure.starts_on or day > min(timezone.localdate(at), measure.ends_on):
        raise DomainError(_("The day is outside this home measure."), field="day")
    if HomeReport.objects.filter(measure=measure, day=day, half=half).exists():
        raise Conflict(_("This check was entered already."), field="half")
    user = actor if getattr(actor, "pk", None) and hasattr(actor, "is_authenticated") else None
    return HomeReport.objects.create(
        measure=measure, day=day, half=half, temperature=reading, symptoms=coded,
        abnormal=abnormal, reporter=reporter, reported_at=at,
        reported_by=user, client_id=client_id,
    )  # fmt: skip
