"""Every write of supervision: teams and their members, the editable checklist, an
inspection with its findings and evidence (each finding a rectification task for the person
responsible, delivered to their inbox), the fix reported with a photo, the re-check that
closes or reopens it (never by the one who fixed it), and the daily patrol of a building.
Keyword-only, transactional, refusing with the field (and the finding's row) named."""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history, scope
from bastion.core.errors import Conflict, DomainError, Problem
from bastion.core.idempotency import created_once
from bastion.core.levels import LEVEL_ORDER
from bastion.core.photos import CheckedPhoto
from bastion.geo.models import Node
from bastion.notices.services import Recipient as Addressee
from bastion.notices.services import in_every_language, notification_send
from bastion.people.mobilization.models import Place
from bastion.people.models import Person, Post, PostRole
from bastion.supervision.models import (
    BUILDING,
    ChecklistItem,
    Finding,
    Inspection,
    Member,
    Mode,
    Patrol,
    Photo,
    PhotoKind,
    Severity,
    Status,
    SupervisionTeam,
    TargetKind,
)

FINDING_KIND = "supervision.finding"
REOPENED_KIND = "supervision.reopened"
POINT_CHIEF = "point_chief"
# Days to rectify by severity when the inspector gives no deadline.
DAYS_TO_FIX = {Severity.CRITICAL: 1, Severity.MAJOR: 3, Severity.MINOR: 7}
FINDING_FIELDS = ("text", "severity", "responsible_id", "due_at", "status")


def _human(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# --------------------------------------------------------------------------- teams


@created_once(SupervisionTeam)
@transaction.atomic
def team_create(
    *,
    actor,
    node: Node,
    name: str,
    members: Sequence[Person],
    leader: Person | None = None,
    formed_on: dt.date | None = None,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> SupervisionTeam:
    """A team of inspectors set up by `node`'s command, with its members (the leader first)."""
    if not scope.allows(actor, scope.CHANGE, node):
        raise PermissionDenied(_("You may set up teams only inside your own area."))
    problems = []
    if not name.strip():
        problems.append(Problem("name", _("Give the team a name.")))
    elif SupervisionTeam.objects.filter(node=node, name=name.strip()).exists():
        problems.append(Problem("name", _("There is already a team of this name here.")))
    members = list(dict.fromkeys(members))
    if not members:
        problems.append(Problem("members", _("A team needs at least one member.")))
    if leader is not None and leader not in members:
        members.insert(0, leader)
    if problems:
        raise DomainError(problems)
    team = SupervisionTeam(
        node=node,
        name=name.strip(),
        formed_on=formed_on or timezone.localdate(),
        client_id=client_id,
    )
    team.locate(node)
    team.save()
    for person in members:
        member = Member(team=team, person=person, leader=person == leader)
        member.locate(node)
        member.save()
    history.record_created(actor, team, ("name", "node_id"), source=source)
    return team


def teams_of_user(user) -> list[int]:
    """The teams the login is a member of (through its person)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Member.objects.filter(person__user=user).values_list("team_id", flat=True))


# --------------------------------------------------------------------------- the checklist


@transaction.atomic
def checklist_item_add(
    *,
    actor,
    node: Node,
    kind: str,
    text: str,
    evidence_required: bool = True,
    position: int | None = None,
    source: str = "web",
) -> ChecklistItem:
    """Add a line to the checklist of a kind of place kept by `node`'s command."""
    if not scope.allows(actor, scope.CHANGE, node):
        raise PermissionDenied(_("You may edit checklists only inside your own area."))
    if kind not in TargetKind.values:
        raise DomainError(_("Choose the kind of place."), field="kind")
    if not text.strip():
        raise DomainError(_("Write the item to check."), field="text")
    if position is None:
        position = ChecklistItem.objects.filter(node=node, kind=kind).count() + 1
    item = ChecklistItem(
        node=node,
        kind=kind,
        text=text.strip()[:200],
        evidence_required=evidence_required,
        position=position,
    )
    item.locate(node)
    item.save()
    history.record_created(actor, item, ("kind", "text", "evidence_required"), source=source)
    return item


@transaction.atomic
def checklist_item_update(
    *,
    actor,
    item: ChecklistItem,
    text: str | None = None,
    evidence_required: bool | None = None,
    active: bool | None = None,
    source: str = "web",
) -> ChecklistItem:
    """Edit a line (a retired line stays for the findings that name it)."""
    if not scope.allows(actor, scope.CHANGE, item):
        raise PermissionDenied(_("You may edit checklists only inside your own area."))
    fields = ["text", "evidence_required", "active"]
    before = history.snapshot(item, fields)
    if text is not None:
        if not text.strip():
            raise DomainError(_("Write the item to check."), field="text")
        item.text = text.strip()[:200]
    if evidence_required is not None:
        item.evidence_required = evidence_required
    if active is not None:
        item.active = active
    item.save(update_fields=fields)
    history.record_update(actor, item, before, fields, source=source)
    return item


def checklist_for(*, kind: str, node: Node) -> list[ChecklistItem]:
    """The items in use for a kind of place at `node`: those kept by its ancestors and itself."""
    ancestors = {node.pk} | {getattr(node, f"{level}_id") for level in LEVEL_ORDER} - {None}
    return list(
        ChecklistItem.objects.filter(kind=kind, active=True, node_id__in=ancestors).order_by(
            "node__depth", "position", "pk"
        )
    )


# --------------------------------------------------------------------------- responsible


def responsible_for(*, place: Place | None = None, building: Node | None = None):
    """Who rectifies a finding (from the posts): a place's point chief; a building's chief;
    else the grid chief of the grid it lies in. (person, as) or None."""
    if place is not None and place.chief_id:
        return place.chief, POINT_CHIEF
    node = building if building is not None else place.node
    roles = [(node.building_id, PostRole.BUILDING_CHIEF), (node.grid_id, PostRole.GRID_CHIEF)]
    for node_id, role in roles:
        if node_id is None:
            continue
        post = (
            Post.objects.filter(node_id=node_id, role=role, ended_on__isnull=True)
            .select_related("person")
            .first()
        )
        if post is not None:
            return post.person, role.value
    return None


# --------------------------------------------------------------------------- inspections


@dataclass
class FindingIn:
    """One problem found: a failed checklist item (or free text), its severity and photos."""

    severity: str
    text: str = ""
    item: ChecklistItem | None = None
    photos: Sequence[CheckedPhoto] = field(default_factory=list)
    due_at: dt.datetime | None = None


def _save_photos(finding: Finding, photos: Sequence[CheckedPhoto], *, kind, at, actor) -> None:
    for item in photos:
        photo = Photo(
            finding=finding,
            kind=kind,
            content_type=item.content_type,
            size=item.size,
            uploaded_at=at,
            uploaded_by=_human(actor),
        )
        photo.locate(finding)
        photo.file.save("photo", item.content, save=False)
        photo.save()


def _title(kind: str, place: str) -> str:
    if kind == REOPENED_KIND:
        return _("Reopened at %(place)s") % {"place": place}
    return _("To rectify at %(place)s") % {"place": place}


def _finding_texts(finding: Finding, kind: str) -> dict[str, list[str]]:
    def write():
        return (
            _title(kind, finding.inspection.target_name),
            _("%(text)s — rectify by %(due)s, then report the fix with a photo.")
            % {
                "text": finding.text,
                "due": timezone.localtime(finding.due_at).strftime("%m-%d %H:%M"),
            },
        )

    return in_every_language(write)


def _notify(finding: Finding, *, kind: str, actor, at) -> None:
    inspection = finding.inspection
    notification_send(
        kind=kind,
        title=_title(kind, inspection.target_name),
        body=finding.text,
        node=inspection.target_building or inspection.place.node,
        recipients=[
            Addressee(finding.responsible_id, finding.responsible.user_id, finding.responsible_as)
        ],
        link=f"/supervision/findings/{finding.pk}/",
        source=finding,
        sender=_human(actor),
        at=at,
        texts=_finding_texts(finding, kind),
    )


def _check_findings(findings: Sequence[FindingIn], *, kind: str, node: Node, now) -> list:
    problems = []
    allowed_items = {i.pk for i in checklist_for(kind=kind, node=node)}
    for n, f in enumerate(findings, start=1):
        row = _("finding %(n)d") % {"n": n}
        if f.severity not in Severity.values:
            problems.append(
                Problem("severity", _("%(row)s: choose a severity.") % {"row": row}, row=n)
            )
        if f.item is None and not f.text.strip():
            problems.append(
                Problem(
                    "text", _("%(row)s: say what is wrong, or pick an item.") % {"row": row}, row=n
                )
            )
        if f.item is not None and f.item.pk not in allowed_items:
            problems.append(
                Problem("item", _("%(row)s: not an item of this checklist.") % {"row": row}, row=n)
            )
        if f.item is not None and f.item.evidence_required and not f.photos:
            problems.append(
                Problem(
                    "photos",
                    _("%(row)s: “%(item)s” needs an evidence photo.")
                    % {"row": row, "item": f.item.text},
                    row=n,
                )
            )
        if f.due_at is not None and f.due_at <= now:
            problems.append(
                Problem("due_at", _("%(row)s: the deadline has passed.") % {"row": row}, row=n)
            )
    return problems


@created_once(Inspection)
@transaction.atomic
def inspection_record(
    *,
    actor,
    team: SupervisionTeam,
    place: Place | None = None,
    building: Node | None = None,
    mode: str = Mode.PLANNED,
    findings: Sequence[FindingIn] = (),
    items_checked: int | None = None,
    note: str = "",
    client_id: uuid.UUID | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Inspection:
    """Record an inspection of a place or a building and its findings: each one a task for
    the person responsible, due by the deadline given (or by its severity's), delivered to
    their inbox; a finding on an item this place failed before records the earlier one.
    Refused naming the field and the finding: a target outside the team's area, no one
    responsible, an item needing evidence without a photo, a deadline passed."""
    now = at or timezone.now()
    if (place is None) == (building is None):
        raise DomainError(_("Choose one place or one building to inspect."), field="place")
    target = place if place is not None else building
    if building is not None and building.level != BUILDING:
        raise DomainError(_("Choose a building."), field="building")
    if not scope.allows(actor, scope.CHANGE, target):
        raise PermissionDenied(_("You may inspect only inside your own area."))
    node = building if building is not None else place.node
    if not node.path.startswith(Node.objects.get(pk=team.node_id).path):
        raise DomainError(_("This place is outside the team's area."), field="place")
    if mode not in Mode.values:
        raise DomainError(_("Choose planned or unannounced."), field="mode")
    kind = place.kind if place is not None else BUILDING
    problems = _check_findings(findings, kind=kind, node=node, now=now)
    responsible = responsible_for(place=place, building=building) if findings else None
    if findings and responsible is None:
        problems.append(
            Problem(
                "responsible",
                _("Nobody is responsible here (no chief on the posts): appoint one first."),
            )
        )
    if problems:
        raise DomainError(problems)
    inspection = Inspection(
        team=team,
        place=place,
        target_building=building,
        kind=kind,
        mode=mode,
        inspected_at=now,
        inspector=_human(actor),
        note=note.strip()[:500],
        items_checked=items_checked
        if items_checked is not None
        else len(checklist_for(kind=kind, node=node)),
        client_id=client_id,
    )
    inspection.locate(target)
    inspection.save()
    history.record_created(actor, inspection, ("kind", "mode", "inspected_at"), source=source)
    for f in findings:
        finding_add(actor=actor, inspection=inspection, finding=f, responsible=responsible, at=now)
    return inspection


def _earlier(*, inspection: Inspection, item: ChecklistItem | None) -> Finding | None:
    if item is None:
        return None
    target = (
        {"place": inspection.place}
        if inspection.place_id
        else {"target_building_id": inspection.target_building_id}
    )
    return (
        Finding.objects.filter(item=item, **target)
        .exclude(inspection=inspection)
        .order_by("-found_at", "-pk")
        .first()
    )


def finding_add(
    *, actor, inspection: Inspection, finding: FindingIn, responsible, at: dt.datetime
) -> Finding:
    person, role = responsible
    due = finding.due_at or at + dt.timedelta(days=DAYS_TO_FIX[Severity(finding.severity)])
    row = Finding(
        inspection=inspection,
        item=finding.item,
        place=inspection.place,
        target_building=inspection.target_building,
        text=(finding.text.strip() or _("Not met: %(item)s") % {"item": finding.item.text})[:500],
        severity=finding.severity,
        responsible=person,
        responsible_as=role,
        found_at=at,
        due_at=due,
        status=Status.OPEN,
        repeat_of=_earlier(inspection=inspection, item=finding.item),
    )
    row.locate(inspection)
    row.save()
    _save_photos(row, finding.photos, kind=PhotoKind.EVIDENCE, at=at, actor=actor)
    history.record_created(actor, row, FINDING_FIELDS, source="web")
    _notify(row, kind=FINDING_KIND, actor=actor, at=at)
    return row


# --------------------------------------------------------------------------- rectification


def may_report_fix(user, finding: Finding) -> bool:
    """The person responsible (through their login), or staff who may change the row."""
    if getattr(finding.responsible, "user_id", None) and finding.responsible.user_id == getattr(
        user, "pk", None
    ):
        return True
    return scope.allows(user, scope.CHANGE, finding)


@transaction.atomic
def finding_fix(
    *,
    actor,
    finding: Finding,
    note: str,
    photos: Sequence[CheckedPhoto],
    at: dt.datetime | None = None,
    source: str = "web",
) -> Finding:
    """The person responsible reports the fix: what was done, with a photo. Refused: no
    note, no photo, a finding not open (already reported or closed)."""
    if not may_report_fix(actor, finding):
        raise PermissionDenied(_("Only the person responsible reports this fix."))
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if finding.status != Status.OPEN:
        raise Conflict(_("This finding is not open: its fix was already reported."), field="status")
    problems = []
    if not note.strip():
        problems.append(Problem("note", _("Say in a few words what was done.")))
    if not photos:
        problems.append(Problem("photos", _("Add a photo of the fix.")))
    if problems:
        raise DomainError(problems)
    now = at or timezone.now()
    fields = ["status", "fixed_at", "fixed_by", "fix_note"]
    before = history.snapshot(finding, fields)
    finding.status = Status.FIXED
    finding.fixed_at = now
    finding.fixed_by = _human(actor)
    finding.fix_note = note.strip()[:500]
    finding.save(update_fields=fields)
    _save_photos(finding, photos, kind=PhotoKind.FIX, at=now, actor=actor)
    history.record_update(actor, finding, before, fields, source=source)
    return finding


@transaction.atomic
def finding_recheck(
    *,
    actor,
    finding: Finding,
    passed: bool,
    note: str = "",
    due_at: dt.datetime | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Finding:
    """The re-check (回头看): passed closes the finding; failed reopens it with a new deadline
    (given, or the severity's from now) and tells the person responsible again. Refused: a
    finding with no fix reported, a re-check by the one who reported the fix (or by the
    person responsible), a failed re-check without a note."""
    finding = Finding.objects.select_for_update().select_related("responsible").get(pk=finding.pk)
    if not scope.allows(actor, scope.CHANGE, finding):
        raise PermissionDenied(_("You may re-check only inside your own area."))
    if finding.status != Status.FIXED:
        raise Conflict(_("No fix has been reported for this finding yet."), field="status")
    if getattr(actor, "pk", None) is not None and (
        actor.pk == finding.fixed_by_id or actor.pk == finding.responsible.user_id
    ):
        raise DomainError(
            _("The one who fixed it cannot re-check it: another inspector must."),
            field="rechecked_by",
        )
    now = at or timezone.now()
    if not passed and not note.strip():
        raise DomainError(_("Say what is still wrong."), field="note")
    if not passed and due_at is not None and due_at <= now:
        raise DomainError(_("The deadline has passed."), field="due_at")
    fields = ["status", "rechecked_at", "rechecked_by", "recheck_note", "reopened", "due_at"]
    before = history.snapshot(finding, fields)
    finding.rechecked_at = now
    finding.rechecked_by = _human(actor)
    finding.recheck_note = note.strip()[:500]
    if passed:
        finding.status = Status.CLOSED
    else:
        finding.status = Status.OPEN
        finding.reopened += 1
        finding.due_at = due_at or now + dt.timedelta(days=DAYS_TO_FIX[Severity(finding.severity)])
    finding.save(update_fields=fields)
    history.record_update(actor, finding, before, fields, source=source)
    if not passed:
        _notify(finding, kind=REOPENED_KIND, actor=actor, at=now)
    return finding


# --------------------------------------------------------------------------- daily patrols


@created_once(Patrol)
@transaction.atomic
def patrol_record(
    *,
    actor,
    building: Node,
    failed: Sequence[ChecklistItem] = (),
    note: str = "",
    day: dt.date | None = None,
    client_id: uuid.UUID | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Patrol:
    """The building chief's patrol of the day: the building's checklist gone through, the
    items that failed. Once a day per building; refused for a building with no chief."""
    now = at or timezone.now()
    day = day or timezone.localdate(now)
    if building.level != BUILDING:
        raise DomainError(_("Choose a building."), field="building")
    post = (
        Post.objects.filter(node=building, role=PostRole.BUILDING_CHIEF, ended_on__isnull=True)
        .select_related("person")
        .first()
    )
    chief_user = post.person.user_id if post else None
    if not (
        chief_user == getattr(actor, "pk", None) or scope.allows(actor, scope.CHANGE, building)
    ):
        raise PermissionDenied(_("The building's chief patrols it."))
    if post is None:
        raise DomainError(_("This building has no chief to patrol it."), field="building")
    if Patrol.objects.filter(building=building, day=day).exists():
        raise Conflict(
            _("This building was already patrolled on %(day)s.") % {"day": day}, field="day"
        )
    allowed = {i.pk for i in checklist_for(kind=BUILDING, node=building)}
    if bad := [i for i in failed if i.pk not in allowed]:
        raise DomainError(
            _("Not an item of this building's checklist: %(item)s.") % {"item": bad[0].text},
            field="failed",
        )
    patrol = Patrol(
        building=building,
        day=day,
        by=post.person,
        done_at=now,
        failed=[i.pk for i in failed],
        note=note.strip()[:500],
        client_id=client_id,
    )
    patrol.locate(building)
    patrol.save()
    history.record_created(actor, patrol, ("day", "failed"), source=source)
    return patrol
