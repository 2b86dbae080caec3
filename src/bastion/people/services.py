"""Every write to persons and posts, and (below) to mobilization: the reserve pool, sending
staff down, report-in, places on duty and their rosters, organisations at sites, allowances."""

import calendar
import datetime as dt
import hashlib
import io
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import Conflict, DomainError, Problem
from bastion.geo.identity import normalise_mobile, parse_id_number
from bastion.geo.models import LEVEL_ORDER, CommandZone, Household, Node, Resident
from bastion.people.models import (
    CHIEF_OF_LEVEL,
    ZONE_ROLES,
    AllowanceLine,
    AllowanceMonth,
    AllowanceRate,
    Assignment,
    Availability,
    AvailabilityStatus,
    Award,
    CheckEvent,
    CheckKind,
    Deployment,
    DeploymentKind,
    Dispatch,
    LineKind,
    MonthStatus,
    Organisation,
    OrgKind,
    Person,
    PersonKind,
    PersonSkill,
    Place,
    PlaceKind,
    Post,
    PostRole,
    RateUnit,
    ReportIn,
    ReportInStatus,
    Shift,
    Skill,
    Team,
    TeamKind,
    TeamMember,
    mobilization_setting,
)

POST_FIELDS = ("person_id", "role", "node_id", "zone_id", "title", "started_on", "ended_on")


@transaction.atomic
def person_create(
    *,
    name: str,
    kind: str,
    phone: str,
    id_number: str | None = None,
    party_member: bool = False,
    employer=None,
    home: Household | None = None,
    node: Node | None = None,
    actor=None,
    source: str = "web",
) -> Person:
    """A person, located at their home household, else at the node they serve."""
    problems = []
    if not name.strip():
        problems.append(Problem("name", _("Name is required.")))
    if kind not in PersonKind.values:
        problems.append(Problem("kind", _("Unknown kind of person.")))
    try:
        phone = normalise_mobile(phone)
    except ValidationError as e:
        problems.append(Problem("phone", e.messages[0]))
    if id_number:
        try:
            id_number = parse_id_number(id_number).number
        except ValidationError as e:
            problems.append(Problem("id_number", e.messages[0]))
    if home is None and node is None:
        problems.append(Problem("home", _("A person needs a home household or a node.")))
    if problems:
        raise DomainError(problems)
    person = Person(
        name=name.strip(),
        kind=kind,
        phone=phone,
        id_number=id_number or None,
        party_member=party_member,
        employer=employer,
        home=home,
    )
    person.locate(home or node)
    person.save()
    history.record(
        actor, person, "create", {"name": [None, person.name], "kind": [None, kind]}, source=source
    )
    return person


def _check_post(role: str, node: Node, zone: CommandZone | None) -> None:
    if role not in PostRole.values:
        raise DomainError(_("Unknown post."), field="role")
    level_of_chief = {r: level for level, r in CHIEF_OF_LEVEL.items()}
    if role in level_of_chief and node.level != level_of_chief[role]:
        raise DomainError(
            _("A %(role)s post belongs on a %(level)s.")
            % {"role": PostRole(role).label, "level": level_of_chief[role]},
            field="node",
        )
    if role == PostRole.LANE_CHIEF and node.level != "street":
        raise DomainError(_("A lane chief post belongs on a street."), field="node")
    if role == PostRole.POLICE_LIAISON and node.level != "community":
        raise DomainError(_("A police liaison post belongs on a community."), field="node")
    if role in ZONE_ROLES and (zone is None or zone.street_id != node.pk):
        raise DomainError(_("A zone post needs a command zone of this street."), field="zone")


def post_roles_for(level: str) -> list[str]:
    """The post roles a node of `level` can carry, its own chief first (the rules of
    `_check_post`, for forms to offer only what the service would accept)."""
    roles = [CHIEF_OF_LEVEL[level]] if level in CHIEF_OF_LEVEL else []
    if level == "street":
        roles += [PostRole.LANE_CHIEF, *ZONE_ROLES]
    if level == "community":
        roles += [PostRole.POLICE_LIAISON]
    return [*roles, PostRole.RESERVE]


@transaction.atomic
def post_assign(
    *,
    person: Person,
    role: str,
    node: Node,
    zone: CommandZone | None = None,
    title: str = "",
    started_on: dt.date | None = None,
    actor=None,
    source: str = "web",
) -> Post:
    """Bind a person to a node in a role. A chief post already held is refused, naming who
    holds it; end that post first."""
    _check_post(role, node, zone)
    post = Post(
        person=person,
        role=role,
        node=node,
        zone=zone,
        title=title,
        started_on=started_on or dt.date.today(),
    )
    post.locate(node)
    try:
        with transaction.atomic():
            post.save()
    except IntegrityError:
        # A street has one chief but many zones: a zone commander is unique per zone.
        held = Post.objects.filter(role=role, ended_on__isnull=True).select_related("person")
        held = held.filter(zone=zone) if role == PostRole.ZONE_COMMANDER else held.filter(node=node)
        holder = held.first()
        raise DomainError(
            _("This post is already held by %(name)s.")
            % {"name": holder.person if holder else "?"},
            field="role",
        ) from None
    history.record_created(actor, post, POST_FIELDS, source=source)
    return post


@transaction.atomic
def post_end(
    *, post: Post, ended_on: dt.date | None = None, actor=None, source: str = "web"
) -> Post:
    if post.ended_on is not None:
        raise DomainError(_("This post has already ended."), field="ended_on")
    ended_on = ended_on or dt.date.today()
    if ended_on < post.started_on:
        raise DomainError(_("A post cannot end before it started."), field="ended_on")
    before = history.snapshot(post, POST_FIELDS)
    post.ended_on = ended_on
    post.save(update_fields=["ended_on"])
    history.record(
        actor,
        post,
        "update",
        history.diff(before, history.snapshot(post, POST_FIELDS)),
        source=source,
    )
    return post


# ============================================================================================
# Mobilization (issue 6): availability and skills, dispatch and recall, report-in, places on
# duty, rosters and check-ins, organisations at sites, allowances. Every write is one
# transaction, refuses bad input with the field and the reason, and records its change.
# ============================================================================================

# Levels a place, a dispatch or a team may stand on.
FIELD_LEVELS = ("community", "grid", "building", "unit")
CENT = Decimal("0.01")


class TooManyReports(DomainError):
    """The public report-in form was used too often from one address (answered with 429)."""


def _today() -> dt.date:
    return timezone.localdate()


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%m-%d %H:%M")


def _check_skills(skills: Iterable[str]) -> list[str]:
    skills = sorted({s.strip() for s in skills if s and s.strip()})
    unknown = [s for s in skills if s not in Skill.values]
    if unknown:
        raise DomainError(
            _("Unknown skill: %(skill)s.") % {"skill": ", ".join(unknown)}, field="skills"
        )
    return skills


def _ancestor_ids(row) -> list[int]:
    return [i for level in LEVEL_ORDER if (i := getattr(row, f"{level}_id")) is not None]


# --------------------------------------------------------------------------------------------
# The pool: availability and skills
# --------------------------------------------------------------------------------------------

AVAILABILITY_FIELDS = ("status", "until", "note")


@transaction.atomic
def availability_set(
    *,
    person: Person,
    status: str,
    until: dt.date | None = None,
    note: str = "",
    skills: Sequence[str] | None = None,
    actor=None,
    source: str = "web",
) -> Availability:
    """Say whether a person can be called on (and until when), and optionally replace their
    skills."""
    if status not in AvailabilityStatus.values:
        raise DomainError(_("Unknown availability."), field="status")
    if until is not None and until < _today() - dt.timedelta(days=1):
        raise DomainError(_("The date lies in the past."), field="until")
    row = Availability.objects.filter(person=person).first()
    before = history.snapshot(row, AVAILABILITY_FIELDS) if row else {}
    if row is None:
        row = Availability(person=person)
        row.locate(person)
    row.status, row.until, row.note = status, until, note.strip()[:200]
    row.save()
    changes = history.diff(before, history.snapshot(row, AVAILABILITY_FIELDS))
    if skills is not None:
        wanted = set(_check_skills(skills))
        have = set(person.skills.values_list("skill", flat=True))
        if wanted != have:
            person.skills.exclude(skill__in=wanted).delete()
            new = [PersonSkill(person=person, skill=s) for s in sorted(wanted - have)]
            for s in new:
                s.locate(person)
            PersonSkill.objects.bulk_create(new)
            changes["skills"] = [",".join(sorted(have)), ",".join(sorted(wanted))]
    history.record(actor, row, "create" if not before else "update", changes, source=source)
    return row


# --------------------------------------------------------------------------------------------
# Sending staff down: dispatch and recall
# --------------------------------------------------------------------------------------------

DEPLOYMENT_FIELDS = (
    "person_id",
    "node_id",
    "place_id",
    "kind",
    "starts_on",
    "ends_on",
    "recalled_on",
)


def deployments_overlapping(person_ids: Iterable[int], starts_on: dt.date, ends_on: dt.date):
    """Deployments of these persons on duty on some day of [starts_on, ends_on] (a recalled
    one is on duty up to the day before its recall)."""
    return Deployment.objects.filter(
        person_id__in=list(person_ids), starts_on__lte=ends_on, ends_on__gte=starts_on
    ).filter(
        Q(recalled_on__isnull=True)
        | (Q(recalled_on__gt=starts_on) & Q(recalled_on__gt=F("starts_on")))
    )


def _check_field_node(node: Node | None, field: str) -> list[Problem]:
    if node is None:
        return [Problem(field, _("Choose where they go."))]
    if node.level not in FIELD_LEVELS:
        return [Problem(field, _("Send staff to a community, grid, building or unit."))]
    return []


@transaction.atomic
def dispatch_create(
    *,
    persons: Sequence[Person],
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    node: Node | None = None,
    place: Place | None = None,
    note: str = "",
    actor=None,
    source: str = "web",
    client_id: uuid.UUID | None = None,
) -> Dispatch:
    """Send a selection of persons to a node, or to a place (and so its node), for a period.
    Refused, naming each person, if one is unavailable or already sent somewhere on one of
    those days. An order sent again with the same client id is answered with the first."""
    if (
        client_id is not None
        and (found := Dispatch.objects.filter(client_id=client_id).first()) is not None
    ):
        return found
    problems: list[Problem] = []
    persons = list({p.pk: p for p in persons}.values())
    if not persons:
        problems.append(Problem("persons", _("Choose at least one person.")))
    if kind not in DeploymentKind.values:
        problems.append(Problem("kind", _("Unknown kind of deployment.")))
    if place is not None:
        node = place.node
        if place.closed_on is not None and place.closed_on < ends_on:
            problems.append(
                Problem("place", _("This place closes on %(day)s.") % {"day": place.closed_on})
            )
    problems += _check_field_node(node, "place" if place else "node")
    if ends_on < starts_on:
        problems.append(Problem("ends_on", _("The period ends before it starts.")))
    if problems:
        raise DomainError(problems)
    ids = [p.pk for p in persons]
    list(Person.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
    names = {p.pk: p.name for p in persons}
    busy = deployments_overlapping(ids, starts_on, ends_on).select_related("node")
    for d in busy.order_by("person_id", "starts_on"):
        problems.append(
            Problem(
                "persons",
                _("%(person)s is already sent to %(node)s from %(start)s to %(end)s.")
                % {
                    "person": names[d.person_id],
                    "node": d.node.name,
                    "start": d.starts_on,
                    "end": d.ends_on,
                },
            )
        )
    unavailable = Availability.objects.filter(
        person_id__in=ids, status=AvailabilityStatus.UNAVAILABLE
    ).filter(Q(until__isnull=True) | Q(until__gte=starts_on))
    for a in unavailable.order_by("person_id"):
        problems.append(
            Problem("persons", _("%(person)s is not available.") % {"person": names[a.person_id]})
        )
    if problems:
        raise DomainError(problems)
    dispatch = Dispatch(
        node=node,
        place=place,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        note=note.strip()[:200],
        client_id=client_id,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    dispatch.locate(node)
    dispatch.save()
    deployments = []
    for person in persons:
        d = Deployment(
            dispatch=dispatch,
            person=person,
            node=node,
            place=place,
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
        )
        d.locate(node)
        deployments.append(d)
    Deployment.objects.bulk_create(deployments)
    history.record(
        actor,
        dispatch,
        "create",
        {
            "persons": [None, len(deployments)],
            "node": [None, node.name],
            "starts_on": [None, str(starts_on)],
            "ends_on": [None, str(ends_on)],
        },
        source=source,
    )
    history.record_many(actor, deployments, "create", DEPLOYMENT_FIELDS, source=source)
    return dispatch


@transaction.atomic
def deployment_recall(
    *,
    deployment: Deployment,
    on: dt.date | None = None,
    reason: str = "",
    actor=None,
    source: str = "web",
) -> Deployment:
    """Call a person back: from `on` (today when not given) they are no longer there. A
    recall before the start cancels the deployment."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.recalled_on is not None:
        raise DomainError(
            _("This person was already recalled on %(day)s.") % {"day": deployment.recalled_on},
            field="recalled_on",
        )
    on = on or _today()
    if on > deployment.ends_on:
        raise DomainError(
            _("This deployment ends on %(day)s anyway.") % {"day": deployment.ends_on},
            field="recalled_on",
        )
    before = history.snapshot(deployment, DEPLOYMENT_FIELDS)
    deployment.recalled_on = max(on, deployment.starts_on)
    deployment.recall_reason = reason.strip()[:200]
    deployment.save(update_fields=["recalled_on", "recall_reason"])
    history.record(
        actor,
        deployment,
        "update",
        history.diff(before, history.snapshot(deployment, DEPLOYMENT_FIELDS)),
        source=source,
    )
    return deployment


# --------------------------------------------------------------------------------------------
# Report-in: a party member registers with their home community
# --------------------------------------------------------------------------------------------

REPORT_IN_FIELDS = ("status", "person_id", "post_id", "task", "reason")


def report_in_source_key(address: str) -> str:
    """What is kept of the sender's address: a keyed hash, enough to count, nothing to read."""
    return hashlib.sha256(f"{settings.SECRET_KEY}|report-in|{address}".encode()).hexdigest()


@transaction.atomic
def report_in_submit(
    *,
    community: Node,
    name: str,
    id_number: str,
    phone: str,
    employer_name: str = "",
    skills: Sequence[str] = (),
    note: str = "",
    source_key: str = "",
    source: str = "public",
) -> tuple[ReportIn, bool]:
    """Register a party member with their home community. The same person sending the same
    registration again gets the one already made (and `False`); an ID number already
    registered otherwise is refused, as are too many registrations from one address."""
    problems = []
    if community.level != "community":
        problems.append(Problem("community", _("Choose a community.")))
    name = name.strip()
    if not name:
        problems.append(Problem("name", _("Name is required.")))
    elif len(name) > 50:
        problems.append(Problem("name", _("Name is too long.")))
    try:
        id_number = parse_id_number(id_number).number
    except ValidationError as e:
        problems.append(Problem("id_number", e.messages[0]))
    try:
        phone = normalise_mobile(phone)
    except ValidationError as e:
        problems.append(Problem("phone", e.messages[0]))
    try:
        skills = _check_skills(skills)
    except DomainError as e:
        problems += e.problems
    if problems:
        raise DomainError(problems)
    existing = (
        ReportIn.objects.filter(id_number=id_number).exclude(status=ReportInStatus.REJECTED).first()
    )
    if existing is not None:
        if existing.community_id == community.pk and existing.name == name:
            return existing, False
        raise Conflict(
            _("This ID number has already reported in. Ask your community if something is wrong."),
            field="id_number",
        )
    limit = mobilization_setting("BASTION_REPORT_IN_PER_HOUR")
    if (
        source_key
        and ReportIn.objects.filter(
            source_key=source_key, submitted_at__gte=timezone.now() - dt.timedelta(hours=1)
        ).count()
        >= limit
    ):
        raise TooManyReports(
            _("Too many registrations from here in the last hour. Please try again later.")
        )
    row = ReportIn(
        community=community,
        name=name,
        id_number=id_number,
        phone=phone,
        employer_name=employer_name.strip()[:120],
        skills=",".join(skills),
        note=note.strip()[:200],
        source_key=source_key,
    )
    row.locate(community)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise Conflict(
            _("This ID number has already reported in. Ask your community if something is wrong."),
            field="id_number",
        ) from None
    history.record(
        None, row, "create", {"name": [None, name], "status": [None, row.status]}, source=source
    )
    return row, True


@transaction.atomic
def report_in_confirm(
    *,
    report_in: ReportIn,
    actor=None,
    role: str = "",
    post_node: Node | None = None,
    task: str = "",
    source: str = "web",
) -> ReportIn:
    """The community takes a registration: the person (found by ID number, else created as a
    party member living at the resident's household with that ID number, else at the
    community) gets the skills given, and a post on `post_node` or a task."""
    report_in = ReportIn.objects.select_for_update().get(pk=report_in.pk)
    if report_in.status != ReportInStatus.PENDING:
        raise Conflict(
            _("This registration was already %(status)s.")
            % {"status": report_in.get_status_display()},
            field="status",
        )
    before = history.snapshot(report_in, REPORT_IN_FIELDS)
    person = Person.objects.filter(id_number=report_in.id_number).first()
    if person is None:
        resident = Resident.objects.filter(id_number=report_in.id_number).first()
        employer = Organisation.objects.filter(name=report_in.employer_name).first()
        person = person_create(
            name=report_in.name,
            kind=PersonKind.PARTY_MEMBER,
            phone=report_in.phone,
            id_number=report_in.id_number,
            party_member=True,
            employer=employer,
            home=resident.household if resident else None,
            node=None if resident else report_in.community,
            actor=actor,
            source=source,
        )
    elif not person.party_member:
        person.party_member = True
        person.save(update_fields=["party_member"])
        history.record(actor, person, "update", {"party_member": [False, True]}, source=source)
    skills = [s for s in report_in.skills.split(",") if s]
    have = set(person.skills.values_list("skill", flat=True))
    new = [PersonSkill(person=person, skill=s) for s in skills if s not in have]
    for s in new:
        s.locate(person)
    PersonSkill.objects.bulk_create(new)
    if role:
        report_in.post = post_assign(
            person=person,
            role=role,
            node=post_node or report_in.community,
            actor=actor,
            source=source,
        )
    report_in.task = task.strip()[:200]
    report_in.person = person
    report_in.status = ReportInStatus.CONFIRMED
    report_in.decided_at = timezone.now()
    report_in.decided_by = actor if actor is not None and actor.is_authenticated else None
    report_in.save()
    history.record(
        actor,
        report_in,
        "update",
        history.diff(before, history.snapshot(report_in, REPORT_IN_FIELDS)),
        source=source,
    )
    return report_in


@transaction.atomic
def report_in_reject(
    *, report_in: ReportIn, reason: str, actor=None, source: str = "web"
) -> ReportIn:
    report_in = ReportIn.objects.select_for_update().get(pk=report_in.pk)
    if report_in.status != ReportInStatus.PENDING:
        raise Conflict(
            _("This registration was already %(status)s.")
            % {"status": report_in.get_status_display()},
            field="status",
        )
    if not reason.strip():
        raise DomainError(_("Say why, so the person can be told."), field="reason")
    before = history.snapshot(report_in, REPORT_IN_FIELDS)
    report_in.status = ReportInStatus.REJECTED
    report_in.reason = reason.strip()[:200]
    report_in.decided_at = timezone.now()
    report_in.decided_by = actor if actor is not None and actor.is_authenticated else None
    report_in.save()
    history.record(
        actor,
        report_in,
        "update",
        history.diff(before, history.snapshot(report_in, REPORT_IN_FIELDS)),
        source=source,
    )
    return report_in


# --------------------------------------------------------------------------------------------
# Places on duty
# --------------------------------------------------------------------------------------------

PLACE_FIELDS = (
    "name",
    "kind",
    "node_id",
    "address",
    "chief_id",
    "shifts_per_day",
    "shift_hours",
    "first_shift_at",
    "required",
    "opened_on",
    "closed_on",
)
PLACE_EDITABLE = {
    "name",
    "address",
    "chief",
    "required",
    "closed_on",
    "shifts_per_day",
    "shift_hours",
    "first_shift_at",
}


def _place_problems(place: Place) -> list[Problem]:
    problems = []
    if not place.name.strip():
        problems.append(Problem("name", _("Name is required.")))
    if place.kind not in PlaceKind.values:
        problems.append(Problem("kind", _("Unknown kind of place.")))
    if not 1 <= place.shifts_per_day <= 6:
        problems.append(Problem("shifts_per_day", _("A day has 1 to 6 shifts.")))
    if not 1 <= place.shift_hours <= 24:
        problems.append(Problem("shift_hours", _("A shift lasts 1 to 24 hours.")))
    elif place.shifts_per_day * place.shift_hours > 24:
        problems.append(
            Problem("shift_hours", _("The shifts of a day add up to more than 24 hours."))
        )
    if not 1 <= place.required <= 50:
        problems.append(Problem("required", _("A shift needs 1 to 50 people.")))
    if place.closed_on is not None and place.closed_on < place.opened_on:
        problems.append(Problem("closed_on", _("A place cannot close before it opened.")))
    return problems


def _place_save(place: Place) -> None:
    try:
        with transaction.atomic():
            place.save()
    except IntegrityError:
        raise Conflict(
            _("This street already has a place named %(name)s.") % {"name": place.name},
            field="name",
        ) from None


@transaction.atomic
def place_create(
    *,
    node: Node,
    name: str,
    kind: str,
    address: str = "",
    chief: Person | None = None,
    shifts_per_day: int = 3,
    shift_hours: int = 8,
    first_shift_at: dt.time = dt.time(8, 0),
    required: int = 2,
    opened_on: dt.date | None = None,
    ref_type: str = "",
    ref_id: int | None = None,
    actor=None,
    source: str = "web",
) -> Place:
    """A place where people are on duty, on a community or below, with its point chief and
    its shift pattern (three 8-hour shifts of two people by default)."""
    place = Place(
        node=node,
        name=name.strip(),
        kind=kind,
        address=address.strip(),
        chief=chief,
        shifts_per_day=shifts_per_day,
        shift_hours=shift_hours,
        first_shift_at=first_shift_at,
        required=required,
        opened_on=opened_on or _today(),
        ref_type=ref_type,
        ref_id=ref_id,
    )
    problems = _check_field_node(node, "node") + _place_problems(place)
    if problems:
        raise DomainError(problems)
    place.locate(node)
    _place_save(place)
    history.record_created(actor, place, PLACE_FIELDS, source=source)
    return place


@transaction.atomic
def place_update(*, place: Place, actor=None, source: str = "web", **changes) -> Place:
    """Change a place: its name, address, point chief (None removes it), people a shift,
    shift pattern (for shifts not yet built) or closing day."""
    unknown = set(changes) - PLACE_EDITABLE
    if unknown:
        raise DomainError(
            _("These cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            field=sorted(unknown)[0],
        )
    before = history.snapshot(place, PLACE_FIELDS)
    for name, value in changes.items():
        setattr(place, name, value.strip() if isinstance(value, str) else value)
    problems = _place_problems(place)
    if problems:
        raise DomainError(problems)
    _place_save(place)
    if "required" in changes:  # shifts still to come need the new number
        Shift.objects.filter(place=place, starts_at__gt=timezone.now()).update(
            required=place.required
        )
    history.record(
        actor,
        place,
        "update",
        history.diff(before, history.snapshot(place, PLACE_FIELDS)),
        source=source,
    )
    return place


# --------------------------------------------------------------------------------------------
# Rosters
# --------------------------------------------------------------------------------------------

ASSIGNMENT_FIELDS = ("shift_id", "person_id", "starts_at", "ends_at")


def shift_times(place: Place, day: dt.date) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """The shifts of `place` on roster day `day`: (index, start, end), in local time."""
    zone = timezone.get_current_timezone()
    first = dt.datetime.combine(day, place.first_shift_at, tzinfo=zone)
    hours = dt.timedelta(hours=place.shift_hours)
    return [(i, first + i * hours, first + (i + 1) * hours) for i in range(place.shifts_per_day)]


def place_open_on(place: Place, day: dt.date) -> bool:
    return place.opened_on <= day and (place.closed_on is None or day <= place.closed_on)


def _refuse_if_paid(row, day: dt.date) -> None:
    """Refuse a change to a day whose allowances are closed over this row's place."""
    closed = (
        AllowanceMonth.objects.filter(
            node_id__in=_ancestor_ids(row), month=day.replace(day=1), status=MonthStatus.CLOSED
        )
        .select_related("node")
        .first()
    )
    if closed is not None:
        raise DomainError(
            _("The allowances of %(month)s are closed for %(node)s, so its shifts cannot change.")
            % {"month": f"{closed.month:%Y-%m}", "node": closed.node.name},
            field="day",
        )


@transaction.atomic
def roster_build(*, place: Place, day: dt.date, actor=None, source: str = "web") -> list[Shift]:
    """Make the shifts of `place` for `day` that do not exist yet; returns all of that day's.
    Building twice builds nothing new."""
    if not place_open_on(place, day):
        raise DomainError(
            _("%(place)s is not open on %(day)s.") % {"place": place, "day": day}, field="day"
        )
    have = set(Shift.objects.filter(place=place, day=day).values_list("index", flat=True))
    new = []
    for index, starts_at, ends_at in shift_times(place, day):
        if index not in have:
            shift = Shift(
                place=place,
                day=day,
                index=index,
                starts_at=starts_at,
                ends_at=ends_at,
                required=place.required,
            )
            shift.locate(place)
            new.append(shift)
    if new:
        try:
            with transaction.atomic():
                Shift.objects.bulk_create(new)
        except IntegrityError:
            raise Conflict(
                _(
                    "The shifts of this day overlap shifts already built; change the "
                    "pattern back or build another day."
                ),
                field="day",
            ) from None
        history.record(actor, place, "update", {"roster": [None, str(day)]}, source=source)
    return list(Shift.objects.filter(place=place, day=day).order_by("index"))


def duty_problems(
    person: Person, starts_at: dt.datetime, ends_at: dt.datetime, *, exclude: Sequence[int] = ()
) -> list[str]:
    """Why `person` cannot be on duty from `starts_at` to `ends_at`: on duty elsewhere at the
    same time, or more hours in a row than allowed (shifts closer than the minimum rest
    count as one stretch). Empty when they can."""
    limit = dt.timedelta(hours=mobilization_setting("BASTION_ROSTER_MAX_HOURS_IN_A_ROW"))
    rest = dt.timedelta(hours=mobilization_setting("BASTION_ROSTER_MIN_REST_HOURS"))
    nearby = list(
        Assignment.objects.filter(
            person=person,
            starts_at__lt=ends_at + rest + limit,
            ends_at__gt=starts_at - rest - limit,
        )
        .exclude(pk__in=list(exclude))
        .select_related("shift__place")
        .order_by("starts_at")
    )
    problems = [
        _("%(person)s is already on duty at %(place)s from %(start)s to %(end)s.")
        % {
            "person": person.name,
            "place": a.shift.place.name,
            "start": _local(a.starts_at),
            "end": _local(a.ends_at),
        }
        for a in nearby
        if a.starts_at < ends_at and a.ends_at > starts_at
    ]
    if problems:
        return problems
    spans = sorted([(a.starts_at, a.ends_at) for a in nearby] + [(starts_at, ends_at)])
    # The stretch holding the new shift: grow it left and right while the gaps are short.
    first, last = starts_at, ends_at
    before = [sp for sp in spans if sp[1] <= starts_at]
    after = [sp for sp in spans if sp[0] >= ends_at]
    for s, e in reversed(before):
        if first - e < rest:
            first = min(first, s)
        else:
            break
    for s, e in after:
        if s - last < rest:
            last = max(last, e)
        else:
            break
    if last - first > limit:
        hours = int((last - first).total_seconds() // 3600)
        return [
            _(
                "%(person)s would be on duty %(hours)d hours in a row (%(start)s to %(end)s); "
                "the limit is %(limit)d hours, with at least %(rest)d hours of rest between."
            )
            % {
                "person": person.name,
                "hours": hours,
                "start": _local(first),
                "end": _local(last),
                "limit": limit.total_seconds() // 3600,
                "rest": rest.total_seconds() // 3600,
            }
        ]
    return []


def _lock_persons(*persons: Person) -> None:
    list(
        Person.objects.select_for_update()
        .filter(pk__in=[p.pk for p in persons])
        .values_list("pk", flat=True)
    )


def _checked_in(*assignments: Assignment) -> bool:
    return CheckEvent.objects.filter(assignment__in=assignments, kind=CheckKind.IN).exists()


@transaction.atomic
def shift_assign(*, shift: Shift, person: Person, actor=None, source: str = "web") -> Assignment:
    """Roster a person on a shift. Refused with the reason if they are on duty elsewhere at
    that time or would be on duty too long in a row; rostering them twice returns the first."""
    _lock_persons(person)
    existing = Assignment.objects.filter(shift=shift, person=person).first()
    if existing is not None:
        return existing
    if shift.ends_at <= timezone.now():
        raise DomainError(_("This shift is over."), field="shift")
    _refuse_if_paid(shift, shift.day)
    problems = duty_problems(person, shift.starts_at, shift.ends_at)
    if problems:
        raise Conflict([Problem("person", m) for m in problems])
    assignment = Assignment(
        shift=shift, person=person, starts_at=shift.starts_at, ends_at=shift.ends_at
    )
    assignment.locate(shift)
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:
        raise Conflict(
            _("%(person)s is already on duty at that time.") % {"person": person}, field="person"
        ) from None
    history.record_created(actor, assignment, ASSIGNMENT_FIELDS, source=source)
    return assignment


@transaction.atomic
def assignment_remove(*, assignment: Assignment, actor=None, source: str = "web") -> None:
    if _checked_in(assignment):
        raise Conflict(
            _("%(person)s has already checked in; the shift cannot be taken away.")
            % {"person": assignment.person},
            field="assignment",
        )
    _refuse_if_paid(assignment, assignment.shift.day)
    history.record(
        actor,
        assignment,
        "delete",
        history.diff(
            history.snapshot(assignment, ASSIGNMENT_FIELDS), dict.fromkeys(ASSIGNMENT_FIELDS)
        ),
        source=source,
    )
    assignment.delete()


def _movable(assignment: Assignment) -> None:
    if _checked_in(assignment):
        raise Conflict(
            _("%(person)s has already checked in on this shift.") % {"person": assignment.person},
            field="assignment",
        )
    if assignment.ends_at <= timezone.now():
        raise DomainError(_("This shift is over."), field="assignment")
    _refuse_if_paid(assignment, assignment.shift.day)


@transaction.atomic
def assignment_swap(
    *, assignment: Assignment, other: Assignment, actor=None, source: str = "web"
) -> tuple[Assignment, Assignment]:
    """Two persons trade shifts: each takes the other's. Both must be able to."""
    if assignment.pk == other.pk or assignment.person_id == other.person_id:
        raise DomainError(_("Choose a shift of someone else."), field="other")
    if assignment.shift_id == other.shift_id:
        raise DomainError(_("Both are on the same shift already."), field="other")
    _lock_persons(assignment.person, other.person)
    for a in (assignment, other):
        _movable(a)
    a_person, b_person = assignment.person, other.person
    if (
        Assignment.objects.filter(shift=other.shift, person=a_person).exists()
        or Assignment.objects.filter(shift=assignment.shift, person=b_person).exists()
    ):
        raise DomainError(_("One of them is already on the other shift."), field="other")
    problems = duty_problems(
        a_person, other.starts_at, other.ends_at, exclude=[assignment.pk, other.pk]
    )
    problems += duty_problems(
        b_person, assignment.starts_at, assignment.ends_at, exclude=[assignment.pk, other.pk]
    )
    if problems:
        raise Conflict([Problem("other", m) for m in problems])
    before_a = history.snapshot(assignment, ASSIGNMENT_FIELDS)
    before_b = history.snapshot(other, ASSIGNMENT_FIELDS)
    a_shift, b_shift = assignment.shift, other.shift
    # Each row keeps its person and moves to the other shift: no moment has a person twice.
    for row, shift in ((assignment, b_shift), (other, a_shift)):
        row.shift, row.starts_at, row.ends_at = shift, shift.starts_at, shift.ends_at
        row.locate(shift)
        row.save()
    history.record(
        actor,
        assignment,
        "update",
        history.diff(before_a, history.snapshot(assignment, ASSIGNMENT_FIELDS)),
        source=source,
    )
    history.record(
        actor,
        other,
        "update",
        history.diff(before_b, history.snapshot(other, ASSIGNMENT_FIELDS)),
        source=source,
    )
    return assignment, other


@transaction.atomic
def assignment_transfer(
    *, assignment: Assignment, person: Person, actor=None, source: str = "web"
) -> Assignment:
    """Give a rostered shift to someone else (a replacement)."""
    if person.pk == assignment.person_id:
        raise DomainError(_("Choose someone else."), field="person")
    _lock_persons(assignment.person, person)
    _movable(assignment)
    if Assignment.objects.filter(shift=assignment.shift, person=person).exists():
        raise DomainError(
            _("%(person)s is already on this shift.") % {"person": person}, field="person"
        )
    problems = duty_problems(person, assignment.starts_at, assignment.ends_at)
    if problems:
        raise Conflict([Problem("person", m) for m in problems])
    before = history.snapshot(assignment, ASSIGNMENT_FIELDS)
    assignment.person = person
    assignment.save(update_fields=["person"])
    history.record(
        actor,
        assignment,
        "update",
        history.diff(before, history.snapshot(assignment, ASSIGNMENT_FIELDS)),
        source=source,
    )
    return assignment


def _replayed_check(
    client_id: uuid.UUID | None, assignment: Assignment, kind: str
) -> CheckEvent | None:
    if client_id is None:
        return None
    found = CheckEvent.objects.filter(client_id=client_id).first()
    if found is None:
        return None
    if found.assignment_id != assignment.pk or found.kind != kind:
        raise Conflict(_("This client id was already used for another record."), field="client_id")
    return found


def _check_time(at: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    at = at or now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + dt.timedelta(minutes=5):
        raise DomainError(_("The time lies in the future."), field="at")
    return at


@transaction.atomic
def duty_check_in(
    *,
    assignment: Assignment,
    actor=None,
    at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> CheckEvent:
    """Check a rostered person in (from an hour before the start to the end of the shift).
    A retry with the same client id returns the first check-in and writes nothing."""
    if (found := _replayed_check(client_id, assignment, CheckKind.IN)) is not None:
        return found
    done = CheckEvent.objects.filter(assignment=assignment, kind=CheckKind.IN).first()
    if done is not None:
        raise Conflict(
            _("%(person)s already checked in at %(at)s.")
            % {"person": assignment.person, "at": _local(done.at)},
            field="at",
        )
    at = _check_time(at)
    early = dt.timedelta(minutes=mobilization_setting("BASTION_CHECK_IN_EARLY_MINUTES"))
    if at < assignment.starts_at - early:
        raise DomainError(
            _("Too early: this shift starts at %(start)s.")
            % {"start": _local(assignment.starts_at)},
            field="at",
        )
    if at >= assignment.ends_at:
        raise DomainError(_("This shift is over."), field="at")
    _refuse_if_paid(assignment, assignment.shift.day)
    event = CheckEvent(
        assignment=assignment,
        kind=CheckKind.IN,
        day=assignment.shift.day,
        at=at,
        client_id=client_id,
        by=actor if actor is not None and actor.is_authenticated else None,
    )
    event.locate(assignment)
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:  # the same check-in raced in twice
        if (found := _replayed_check(client_id, assignment, CheckKind.IN)) is not None:
            return found
        raise Conflict(
            _("%(person)s already checked in.") % {"person": assignment.person}, field="at"
        ) from None
    history.record(
        actor, assignment, "update", {"checked_in": [None, at.isoformat()]}, source=source
    )
    return event


@transaction.atomic
def duty_check_out(
    *,
    assignment: Assignment,
    actor=None,
    at: dt.datetime | None = None,
    note: str = "",
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> CheckEvent:
    """Check a person out, with the handover note for the next shift. Idempotent by client
    id like the check-in."""
    if (found := _replayed_check(client_id, assignment, CheckKind.OUT)) is not None:
        return found
    checked_in = CheckEvent.objects.filter(assignment=assignment, kind=CheckKind.IN).first()
    if checked_in is None:
        raise DomainError(
            _("%(person)s has not checked in.") % {"person": assignment.person}, field="at"
        )
    done = CheckEvent.objects.filter(assignment=assignment, kind=CheckKind.OUT).first()
    if done is not None:
        raise Conflict(
            _("%(person)s already checked out at %(at)s.")
            % {"person": assignment.person, "at": _local(done.at)},
            field="at",
        )
    at = _check_time(at)
    if at < checked_in.at:
        raise DomainError(_("A check-out cannot come before the check-in."), field="at")
    _refuse_if_paid(assignment, assignment.shift.day)
    event = CheckEvent(
        assignment=assignment,
        kind=CheckKind.OUT,
        day=assignment.shift.day,
        at=at,
        note=note.strip()[:2000],
        client_id=client_id,
        by=actor if actor is not None and actor.is_authenticated else None,
    )
    event.locate(assignment)
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        if (found := _replayed_check(client_id, assignment, CheckKind.OUT)) is not None:
            return found
        raise Conflict(
            _("%(person)s already checked out.") % {"person": assignment.person}, field="at"
        ) from None
    history.record(
        actor, assignment, "update", {"checked_out": [None, at.isoformat()]}, source=source
    )
    return event


# --------------------------------------------------------------------------------------------
# Organisations at sites: temporary branches, pioneer posts, responsibility areas, shock teams
# --------------------------------------------------------------------------------------------

TEAM_FIELDS = ("kind", "name", "node_id", "place_id", "formed_on", "dissolved_on")
MEMBER_FIELDS = ("team_id", "person_id", "title", "joined_on", "left_on")


@transaction.atomic
def team_create(
    *,
    kind: str,
    name: str,
    node: Node | None = None,
    place: Place | None = None,
    formed_on: dt.date | None = None,
    actor=None,
    source: str = "web",
) -> Team:
    """Set up a team on a node or at a place. A temporary party branch must be bound to a
    place and gets its (temporary) party organisation."""
    problems = []
    name = name.strip()
    if not name:
        problems.append(Problem("name", _("Name is required.")))
    if kind not in TeamKind.values:
        problems.append(Problem("kind", _("Unknown kind of team.")))
    if kind == TeamKind.BRANCH and place is None:
        problems.append(Problem("place", _("A temporary party branch is set up at a place.")))
    if place is not None:
        node = place.node
    problems += _check_field_node(node, "place" if place else "node")
    if problems:
        raise DomainError(problems)
    organisation = None
    if kind == TeamKind.BRANCH:
        organisation = Organisation(
            name=name, kind=OrgKind.PARTY_ORG, temporary=True, site=place.name[:120]
        )
        organisation.locate(node)
        try:
            with transaction.atomic():
                organisation.save()
        except IntegrityError:
            raise Conflict(
                _("An organisation named %(name)s already exists.") % {"name": name}, field="name"
            ) from None
    team = Team(
        kind=kind,
        name=name,
        node=node,
        place=place,
        organisation=organisation,
        formed_on=formed_on or _today(),
    )
    team.locate(node)
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise Conflict(
            _("%(node)s already has a team named %(name)s.") % {"node": node, "name": name},
            field="name",
        ) from None
    history.record_created(actor, team, TEAM_FIELDS, source=source)
    return team


@transaction.atomic
def team_member_add(
    *,
    team: Team,
    person: Person,
    title: str = "",
    joined_on: dt.date | None = None,
    actor=None,
    source: str = "web",
) -> TeamMember:
    if team.dissolved_on is not None:
        raise DomainError(_("This team has been dissolved."), field="team")
    if team.kind == TeamKind.BRANCH and not person.party_member:
        raise DomainError(
            _("Only party members join a party branch; %(person)s is not one.")
            % {"person": person},
            field="person",
        )
    if TeamMember.objects.filter(team=team, person=person, left_on__isnull=True).exists():
        raise Conflict(_("%(person)s is already a member.") % {"person": person}, field="person")
    member = TeamMember(
        team=team, person=person, title=title.strip()[:30], joined_on=joined_on or _today()
    )
    member.locate(team)
    member.save()
    history.record_created(actor, member, MEMBER_FIELDS, source=source)
    return member


@transaction.atomic
def team_member_remove(
    *, member: TeamMember, left_on: dt.date | None = None, actor=None, source: str = "web"
) -> TeamMember:
    if member.left_on is not None:
        raise DomainError(_("This person has already left."), field="person")
    before = history.snapshot(member, MEMBER_FIELDS)
    member.left_on = max(left_on or _today(), member.joined_on)
    member.save(update_fields=["left_on"])
    history.record(
        actor,
        member,
        "update",
        history.diff(before, history.snapshot(member, MEMBER_FIELDS)),
        source=source,
    )
    return member


# --------------------------------------------------------------------------------------------
# Allowances
# --------------------------------------------------------------------------------------------

MONTH_FIELDS = ("status", "payer_id")


def rate_keys() -> dict[str, str]:
    """Every key a rate may have → its unit: each place kind (a day), each post (a month)."""
    return {
        **{k: RateUnit.DAY for k in PlaceKind.values},
        **{f"post:{r}": RateUnit.MONTH for r in PostRole.values},
    }


def rate_label(key: str) -> str:
    if key.startswith("post:"):
        return str(PostRole(key[5:]).label)
    return str(PlaceKind(key).label) if key in PlaceKind.values else key


def _amount(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        raise DomainError(_("Enter an amount such as 150 or 150.50."), field=field) from None
    if amount < 0 or amount >= Decimal("100000000"):
        raise DomainError(_("Enter an amount between 0 and 99,999,999."), field=field)
    return amount


def _open_month(month: AllowanceMonth) -> AllowanceMonth:
    """The month, locked; refused when closed."""
    month = AllowanceMonth.objects.select_for_update().select_related("node").get(pk=month.pk)
    if month.status == MonthStatus.CLOSED:
        raise Conflict(
            _("%(month)s is closed and cannot change.") % {"month": f"{month.month:%Y-%m}"},
            field="month",
        )
    return month


def month_bounds(first: dt.date) -> tuple[dt.date, dt.date]:
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


@transaction.atomic
def allowance_month_open(
    *,
    node: Node,
    month: dt.date,
    payer: Organisation | None = None,
    actor=None,
    source: str = "web",
) -> AllowanceMonth:
    """Open the allowance ledger of `node`'s subtree for a month, with the rates of the
    previous month of this node (else the configured ones). No other ledger of that month may
    cover the same places (one above or below this node)."""
    first = month.replace(day=1)
    if first > _today().replace(day=1):
        raise DomainError(_("That month has not begun."), field="month")
    same = (
        AllowanceMonth.objects.filter(month=first)
        .filter(Q(node_id__in=_ancestor_ids(node)) | Q(**{f"{node.level}_id": node.pk}))
        .select_related("node")
        .first()
    )
    if same is not None:
        raise Conflict(
            _("%(node)s already keeps the ledger of %(month)s.")
            % {"node": same.node.name, "month": f"{first:%Y-%m}"},
            field="month",
        )
    row = AllowanceMonth(node=node, month=first, payer=payer)
    row.locate(node)
    row.save()
    previous = AllowanceMonth.objects.filter(node=node, month__lt=first).order_by("-month").first()
    if previous is not None:
        rates = [(r.key, r.unit, r.amount) for r in previous.rates.all()]
    else:
        rates = [
            (k, unit, Decimal(a))
            for k, (unit, a) in mobilization_setting("BASTION_ALLOWANCE_RATES").items()
        ]
    new = [AllowanceRate(month=row, key=k, unit=unit, amount=a) for k, unit, a in rates]
    for r in new:
        r.locate(row)
    AllowanceRate.objects.bulk_create(new)
    history.record(
        actor,
        row,
        "create",
        {"month": [None, f"{first:%Y-%m}"], "status": [None, row.status]},
        source=source,
    )
    return row


@transaction.atomic
def allowance_rate_set(
    *, month: AllowanceMonth, key: str, amount, actor=None, source: str = "web"
) -> AllowanceRate:
    """Set (or add) one rate of an open month."""
    month = _open_month(month)
    units = rate_keys()
    if key not in units:
        raise DomainError(_("Unknown allowance."), field="key")
    amount = _amount(amount, "amount")
    rate = AllowanceRate.objects.filter(month=month, key=key).first()
    old = str(rate.amount) if rate else None
    if rate is None:
        rate = AllowanceRate(month=month, key=key, unit=units[key], amount=amount)
        rate.locate(month)
    rate.amount = amount
    rate.save()
    history.record(actor, month, "update", {f"rate:{key}": [old, str(amount)]}, source=source)
    return rate


@transaction.atomic
def award_grant(
    *,
    month: AllowanceMonth,
    person: Person,
    title: str,
    amount,
    node: Node | None = None,
    awarded_on: dt.date | None = None,
    actor=None,
    source: str = "web",
) -> Award:
    """A one-off amount for a person in an open month ("grid star"), given by `node`."""
    month = _open_month(month)
    first, last = month_bounds(month.month)
    awarded_on = awarded_on or min(_today(), last)
    problems = []
    if not title.strip():
        problems.append(Problem("title", _("Name the award.")))
    if not first <= awarded_on <= last:
        problems.append(
            Problem(
                "awarded_on", _("The date lies outside %(month)s.") % {"month": f"{first:%Y-%m}"}
            )
        )
    try:
        amount = _amount(amount, "amount")
        if amount <= 0:
            problems.append(Problem("amount", _("An award is more than 0.")))
    except DomainError as e:
        problems += e.problems
    node = node or month.node
    if getattr(node, f"{month.node.level}_id") != month.node_id:
        problems.append(Problem("node", _("The awarding place lies outside this ledger.")))
    if problems:
        raise DomainError(problems)
    award = Award(
        month=month,
        person=person,
        node=node,
        title=title.strip()[:60],
        amount=amount,
        awarded_on=awarded_on,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    award.locate(node)
    award.save()
    history.record(
        actor,
        award,
        "create",
        {
            "title": [None, award.title],
            "amount": [None, str(amount)],
            "person_id": [None, person.pk],
        },
        source=source,
    )
    return award


@dataclass(frozen=True)
class _Line:
    person_id: int
    kind: str
    key: str
    days: int
    rate: Decimal
    amount: Decimal


def allowance_lines(month: AllowanceMonth) -> list[_Line]:
    """The lines a month's ledger holds, computed from what happened in its node's subtree:

    * a daily allowance for each day with a checked-in shift, at the rate of that place's
      kind — one a day per person, the highest if they were at several kinds of place;
    * a monthly allowance for each post with a monthly rate, by the days of the month it was
      held (rate × days held ÷ days of the month, rounded to the cent; several posts of the
      same role count each day once);
    * each award, as given."""
    first, last = month_bounds(month.month)
    days_in_month = (last - first).days + 1
    inside = {f"{month.node.level}_id": month.node_id}
    rates = {r.key: r for r in month.rates.all()}
    best: dict[tuple[int, dt.date], tuple[Decimal, str]] = {}
    checks = CheckEvent.objects.filter(
        **inside, kind=CheckKind.IN, day__gte=first, day__lte=last
    ).values_list("assignment__person_id", "day", "assignment__shift__place__kind")
    for person_id, day, kind in checks:
        rate = rates.get(kind)
        if rate is None or rate.unit != RateUnit.DAY:
            continue
        current = best.get((person_id, day))
        if current is None or (rate.amount, kind) > current:
            best[(person_id, day)] = (rate.amount, kind)
    days = defaultdict(int)
    for (person_id, _day), (_rate, kind) in best.items():
        days[(person_id, kind)] += 1
    lines = [
        _Line(person_id, LineKind.DAILY, kind, n, rates[kind].amount, rates[kind].amount * n)
        for (person_id, kind), n in sorted(days.items())
    ]
    monthly = {
        k[5:]: r for k, r in rates.items() if k.startswith("post:") and r.unit == RateUnit.MONTH
    }
    held: dict[tuple[int, str], set[dt.date]] = defaultdict(set)
    posts = (
        Post.objects.filter(**inside, role__in=list(monthly), started_on__lte=last)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=first))
        .values_list("person_id", "role", "started_on", "ended_on")
    )
    for person_id, role, started, ended in posts:
        start, end = max(started, first), min(ended or last, last)
        held[(person_id, role)] |= {
            start + dt.timedelta(days=i) for i in range((end - start).days + 1)
        }
    for (person_id, role), dates in sorted(held.items()):
        rate = monthly[role].amount
        amount = (rate * len(dates) / days_in_month).quantize(CENT, ROUND_HALF_UP)
        lines.append(_Line(person_id, LineKind.MONTHLY, f"post:{role}", len(dates), rate, amount))
    for award in month.awards.order_by("awarded_on", "pk"):
        lines.append(
            _Line(award.person_id, LineKind.AWARD, award.title, 0, award.amount, award.amount)
        )
    return lines


def _lines_write(month: AllowanceMonth) -> int:
    lines = allowance_lines(month)
    employers = dict(
        Person.objects.filter(pk__in={ln.person_id for ln in lines}).values_list(
            "pk", "employer_id"
        )
    )
    AllowanceLine.objects.filter(month=month).delete()
    rows = []
    for ln in lines:
        row = AllowanceLine(
            month=month,
            person_id=ln.person_id,
            payer_id=employers.get(ln.person_id) or month.payer_id,
            kind=ln.kind,
            key=ln.key[:60],
            days=ln.days,
            rate=ln.rate,
            amount=ln.amount,
        )
        row.locate(month)
        rows.append(row)
    AllowanceLine.objects.bulk_create(rows, batch_size=2000)
    month.computed_at = timezone.now()
    return len(rows)


@transaction.atomic
def allowance_month_compute(*, month: AllowanceMonth, actor=None, source: str = "web") -> int:
    """Recompute an open month's lines from the shifts, posts and awards; returns how many.
    Each line is paid by the person's employer (a sent-down cadre's own unit), else by the
    month's paying body."""
    month = _open_month(month)
    n = _lines_write(month)
    month.save(update_fields=["computed_at"])
    return n


@transaction.atomic
def allowance_month_close(
    *, month: AllowanceMonth, actor=None, source: str = "web"
) -> AllowanceMonth:
    """Compute the month one last time and close it: from now on nothing of it changes."""
    month = _open_month(month)
    first, last = month_bounds(month.month)
    if last >= _today():
        raise DomainError(
            _("%(month)s is not over yet.") % {"month": f"{first:%Y-%m}"}, field="month"
        )
    _lines_write(month)
    month.status = MonthStatus.CLOSED
    month.closed_at = timezone.now()
    month.closed_by = actor if actor is not None and actor.is_authenticated else None
    month.save()
    history.record(
        actor, month, "update", {"status": [MonthStatus.OPEN, MonthStatus.CLOSED]}, source=source
    )
    return month


@transaction.atomic
def allowance_payer_set(
    *, month: AllowanceMonth, payer: Organisation | None, actor=None, source: str = "web"
) -> AllowanceMonth:
    month = _open_month(month)
    before = history.snapshot(month, MONTH_FIELDS)
    month.payer = payer
    month.save(update_fields=["payer"])
    history.record(
        actor,
        month,
        "update",
        history.diff(before, history.snapshot(month, MONTH_FIELDS)),
        source=source,
    )
    return month


# The allowance ledger as a workbook: its headers are part of the file format offices exchange,
# spelled out in both languages as the ledgers module does.
ALLOWANCE_PERSON_COLUMNS = (
    ("name", "姓名", "Name"),
    ("id_number", "身份证号", "ID number"),
    ("payer", "发放单位", "Paying body"),
    ("days", "在岗天数", "Days on duty"),
    ("daily", "日补贴", "Daily allowance"),
    ("monthly", "月补贴", "Monthly allowance"),
    ("awards", "奖励", "Awards"),
    ("total", "合计", "Total"),
)
ALLOWANCE_PAYER_COLUMNS = (
    ("payer", "发放单位", "Paying body"),
    ("persons", "人数", "Persons"),
    ("daily", "日补贴", "Daily allowance"),
    ("monthly", "月补贴", "Monthly allowance"),
    ("awards", "奖励", "Awards"),
    ("total", "合计", "Total"),
)
ALLOWANCE_LINE_COLUMNS = (
    ("name", "姓名", "Name"),
    ("payer", "发放单位", "Paying body"),
    ("kind", "类别", "Kind"),
    ("key", "事由", "For"),
    ("days", "天数", "Days"),
    ("rate", "标准", "Rate"),
    ("amount", "金额", "Amount"),
)


def allowance_export(*, month: AllowanceMonth, language: str | None = None) -> tuple[bytes, str]:
    """A month's ledger as .xlsx — per person, per paying body, every line — and its file
    name. ID numbers are masked (the ledger is shared with finance offices)."""
    from django.utils import translation
    from openpyxl import Workbook

    from bastion.geo.identity import mask_id_number
    from bastion.ledgers.columns import Column, is_chinese
    from bastion.ledgers.services import _header_cells, _text_cells, _widths
    from bastion.people.queries import month_ledger

    language = language or translation.get_language()
    zh = is_chinese(language)

    def columns(spec):
        return [Column(key, z, e) for key, z, e in spec]

    ledger = month_ledger(month)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("按人员" if zh else "Per person")
    _widths(sheet, [10, 21, 28, 10, 12, 12, 10, 12])
    sheet.freeze_panes = "A2"
    sheet.append(_header_cells(sheet, columns(ALLOWANCE_PERSON_COLUMNS), language))
    for p in ledger["persons"]:
        sheet.append(
            _text_cells(
                sheet,
                [
                    p.name,
                    mask_id_number(p.id_number),
                    p.payer,
                    p.days,
                    p.daily,
                    p.monthly,
                    p.awards,
                    p.total,
                ],
                {1},
            )
        )
    sheet.append(["合计" if zh else "Total", "", "", None, None, None, None, ledger["total"]])

    sheet = book.create_sheet("按发放单位" if zh else "Per paying body")
    _widths(sheet, [30, 8, 12, 12, 10, 12])
    sheet.freeze_panes = "A2"
    sheet.append(_header_cells(sheet, columns(ALLOWANCE_PAYER_COLUMNS), language))
    for p in ledger["payers"]:
        sheet.append(
            _text_cells(
                sheet, [p["payer"], p["persons"], p["daily"], p["monthly"], p["awards"], p["total"]]
            )
        )
    sheet.append(["合计" if zh else "Total", None, None, None, None, ledger["total"]])

    sheet = book.create_sheet("明细" if zh else "Lines")
    _widths(sheet, [10, 28, 12, 16, 6, 10, 12])
    sheet.freeze_panes = "A2"
    sheet.append(_header_cells(sheet, columns(ALLOWANCE_LINE_COLUMNS), language))
    with translation.override(language):
        lines = (
            AllowanceLine.objects.filter(month=month)
            .select_related("person", "payer")
            .order_by("person__name", "person_id", "id")
        )
        unnamed = month.payer.name if month.payer_id else ""
        for ln in lines.iterator(chunk_size=2000):
            what = ln.key if ln.kind == LineKind.AWARD else rate_label(ln.key)
            sheet.append(
                _text_cells(
                    sheet,
                    [
                        ln.person.name,
                        ln.payer.name if ln.payer_id else unnamed,
                        str(LineKind(ln.kind).label),
                        what,
                        ln.days or None,
                        ln.rate,
                        ln.amount,
                    ],
                )
            )
    out = io.BytesIO()
    book.save(out)
    status = "" if month.status == MonthStatus.CLOSED else "-open"
    return out.getvalue(), f"allowances-{month.node.name}-{month.month:%Y-%m}{status}.xlsx"
