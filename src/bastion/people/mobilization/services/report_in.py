"""Writes of report-in: a party member registers with their home community (the public form),
and the community confirms with a task or turns the report down."""

import datetime as dt
import hashlib
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import Conflict, DomainError, Problem
from bastion.geo.identity import normalise_mobile, parse_id_number
from bastion.geo.models import Node, Resident
from bastion.people.mobilization.models import (
    PersonSkill,
    ReportIn,
    ReportInAttempt,
    ReportInStatus,
    mobilization_setting,
)
from bastion.people.mobilization.services.common import TooManyReports, checked_skills
from bastion.people.models import Organisation, Person, PersonKind
from bastion.people.services import person_create, post_assign

REPORT_IN_FIELDS = ("status", "person_id", "post_id", "task", "reason")
RATE_WINDOW = dt.timedelta(hours=1)


def report_in_source_key(address: str) -> str:
    """What is kept of the sender's address: a keyed hash, enough to count, nothing to read."""
    return hashlib.sha256(f"{settings.SECRET_KEY}|report-in|{address}".encode()).hexdigest()


def _attempt_count(source_key: str) -> None:
    """Count one use of the form from `source_key`; refuse it past the hourly limit (before
    anything about the ID number is looked up). Uses older than the hour are forgotten."""
    if not source_key:
        return
    now = timezone.now()
    ReportInAttempt.objects.filter(at__lt=now - RATE_WINDOW).delete()
    used = ReportInAttempt.objects.filter(source_key=source_key, at__gte=now - RATE_WINDOW)
    if used.count() >= mobilization_setting("BASTION_REPORT_IN_PER_HOUR"):
        raise TooManyReports(
            _("Too many registrations from here in the last hour. Please try again later.")
        )
    ReportInAttempt.objects.create(source_key=source_key, at=now)


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
    """Register a party member with their home community. The answer must not tell anyone
    whether an ID number is registered: too many uses of the form from one address are
    refused first (`TooManyReports`, counting every use), and an ID number registered already
    (by this person sending again, or by anyone) gets its registration back with `False` and
    nothing written, which the callers answer exactly as a new one ("received, the community
    will confirm"); the community's own list still holds the one registration. The use is
    counted first and kept even when the submission is then refused as invalid."""
    _attempt_count(source_key)
    return _report_in_register(
        community=community,
        name=name,
        id_number=id_number,
        phone=phone,
        employer_name=employer_name,
        skills=skills,
        note=note,
        source_key=source_key,
        source=source,
    )


@transaction.atomic
def _report_in_register(
    *,
    community: Node,
    name: str,
    id_number: str,
    phone: str,
    employer_name: str,
    skills: Sequence[str],
    note: str,
    source_key: str,
    source: str,
) -> tuple[ReportIn, bool]:
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
        skills = checked_skills(skills)
    except DomainError as e:
        problems += e.problems
    if problems:
        raise DomainError(problems)
    existing = (
        ReportIn.objects.filter(id_number=id_number).exclude(status=ReportInStatus.REJECTED).first()
    )
    if existing is not None:
        return existing, False
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
    except IntegrityError:  # registered at the same moment by another request
        existing = (
            ReportIn.objects.filter(id_number=id_number)
            .exclude(status=ReportInStatus.REJECTED)
            .first()
        )
        if existing is None:
            raise
        return existing, False
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
    history.record_update(actor, report_in, before, REPORT_IN_FIELDS, source=source)
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
    history.record_update(actor, report_in, before, REPORT_IN_FIELDS, source=source)
    return report_in
