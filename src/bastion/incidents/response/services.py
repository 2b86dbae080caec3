"""Every write of the outbreak response: a case (from a positive retest, by hand, or
imported), its proposal adjusted, its confirmation (areas set, one bundle of tasks opened),
a task's progress, a disinfection, and lifting an area under the rule. Keyword-only,
transactional, recorded in the change log; a refusal raises `DomainError` naming the field
and changes nothing."""

import datetime as dt
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history, scope
from bastion.core.errors import DomainError, Problem
from bastion.core.scope import CHANGE
from bastion.core.sheets.columns import Column, header_index, header_key
from bastion.core.sheets.reading import cell_text, sheet_read
from bastion.geo.identity import parse_id_number
from bastion.geo.models import Node, Resident
from bastion.incidents import services as areas
from bastion.incidents.models import AREA_LEVELS, STRICTNESS, ControlArea, ControlLevel
from bastion.incidents.response import queries, registry
from bastion.incidents.response.models import (
    Bundle,
    Case,
    CaseSource,
    CaseState,
    Disinfection,
    ProposedArea,
    Task,
    TaskKind,
    TaskState,
)
from bastion.incidents.response.queries import TRANSFER_SOURCE
from bastion.incidents.transfers.models import Destination, Reason
from bastion.incidents.transfers.services import transfer_plan
from bastion.people.mobilization import services as mobilization
from bastion.people.mobilization.models import DeploymentKind
from bastion.people.mobilization.queries.pool import pool
from bastion.people.models import Person, Post, PostRole
from bastion.screening import services as screening
from bastion.screening.models import ListKind

CASE_FIELDS = ("node_id", "resident_id", "name", "source", "reference", "reported_at", "state")
TASK_FIELDS = ("owner_id", "deadline", "state", "note", "done_at")
DISINFECTION_FIELDS = ("node_id", "place", "at", "agent", "person", "bundle_id")

# How long each task of a new bundle has (hours), the order of the board.
DEADLINE_HOURS = {
    TaskKind.ORDER: 1,
    TaskKind.DISPATCH: 4,
    TaskKind.SAMPLING: 6,
    TaskKind.TRANSFERS: 6,
    TaskKind.DELIVERY: 12,
    TaskKind.TRACING: 24,
    TaskKind.DISINFECTION: 24,
}
DISPATCHED = 3  # reserve cadres sent into a sealed area
_RANK = {level.value: rank for rank, level in enumerate(STRICTNESS)}


def _user(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def proposal_for(node: Node) -> list[tuple[int, str]]:
    """The areas a case living at `node` proposes: its building (else its unit) sealed, its
    grid controlled, its community under precaution."""
    out = [(node.building_id or node.pk, ControlLevel.SEALED)]
    if node.grid_id:
        out.append((node.grid_id, ControlLevel.CONTROLLED))
    if node.community_id:
        out.append((node.community_id, ControlLevel.PRECAUTION))
    return out


@transaction.atomic
def case_record(
    *,
    actor,
    node: Node,
    name: str,
    reported_at: dt.datetime | None = None,
    source: str = CaseSource.MANUAL,
    reference: str = "",
    resident: Resident | None = None,
    client_id: uuid.UUID | None = None,
    via: str = "web",
) -> Case:
    """A confirmed case living at `node` (a unit or building), with the control areas it
    proposes. The same source and reference again (an import or a retest read twice) is the
    same case."""
    problems = []
    now = timezone.now()
    reported_at = reported_at or now
    reference = reference.strip()[:40]
    if source not in CaseSource.values:
        problems.append(Problem("source", _("Unknown source of a case.")))
    if node.level not in ("building", "unit"):
        problems.append(Problem("node", _("A case lives in a building or a unit.")))
    if not name.strip():
        problems.append(Problem("name", _("Name is required.")))
    if reported_at > now + dt.timedelta(minutes=5):
        problems.append(Problem("reported_at", _("A case is reported now or in the past.")))
    if resident is not None and resident.unit_id not in (node.pk, None) and node.level == "unit":
        problems.append(Problem("resident", _("The resident does not live here.")))
    if problems:
        raise DomainError(problems)
    if client_id and (found := Case.objects.filter(client_id=client_id).first()):
        return found
    if reference and (found := Case.objects.filter(source=source, reference=reference).first()):
        return found
    case = Case(
        node=node,
        resident=resident,
        name=name.strip()[:50],
        source=source,
        reference=reference,
        reported_at=reported_at,
        created_by=_user(actor),
        client_id=client_id,
    )
    case.locate(node)
    case.save()
    ProposedArea.objects.bulk_create(
        ProposedArea(case=case, node_id=n, level=lvl) for n, lvl in proposal_for(node)
    )
    history.record_created(actor, case, CASE_FIELDS, source=via)
    return case


def cases_from_positive(*, residents: Sequence[tuple[int, str]], at: dt.datetime) -> list[Case]:
    """The testing response's hook: each (resident id, tube barcode) of a positive single
    tube is a case, proposed at once (the same tube read again proposes nothing new)."""
    found = {r.pk: r for r in Resident.objects.filter(pk__in=[r for r, _t in residents])}
    made = []
    for resident_id, barcode in residents:
        resident = found.get(resident_id)
        if resident is None or resident.unit_id is None:
            continue
        node = Node.objects.get(pk=resident.unit_id)
        made.append(
            case_record(
                actor=None,
                node=node,
                name=resident.name,
                reported_at=at,
                source=CaseSource.RETEST,
                reference=f"{barcode}:{resident_id}",
                resident=resident,
                via="testing",
            )
        )
    return made


@transaction.atomic
def proposal_adjust(
    *, actor, case: Case, areas_: Sequence[tuple[Node, str]], source: str = "web"
) -> list[ProposedArea]:
    """Replace a waiting case's proposed areas: each a community, grid, building or unit on
    the case's way up the tree (or the case's own node), one level each, at least one
    sealed."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.state != CaseState.PROPOSED:
        raise DomainError(_("This case is already confirmed."), field="case")
    problems = []
    home = case.node
    seen = set()
    for i, (node, level) in enumerate(areas_, start=1):
        if level not in ControlLevel.values:
            problems.append(Problem("level", _("Choose sealed, controlled or precaution."), i))
        if node.level not in AREA_LEVELS or getattr(home, f"{node.level}_id") != node.pk:
            problems.append(
                Problem(
                    "node",
                    _("%(node)s is not an area around the case.") % {"node": node.name},
                    i,
                )
            )
        if node.pk in seen:
            problems.append(Problem("node", _("%(node)s twice.") % {"node": node.name}, i))
        seen.add(node.pk)
    if not any(level == ControlLevel.SEALED for _n, level in areas_):
        problems.append(Problem("level", _("A case seals at least one area.")))
    if problems:
        raise DomainError(problems)
    before = {"areas": _describe(case.proposed.select_related("node"))}
    case.proposed.all().delete()
    rows = ProposedArea.objects.bulk_create(
        ProposedArea(case=case, node=n, level=lvl) for n, lvl in areas_
    )
    history.record(
        actor,
        case,
        "update",
        {"areas": [before["areas"], _describe(rows)]},
        source=source,
    )
    return rows


def _describe(rows) -> str:
    return "; ".join(f"{r.node.name}:{r.level}" for r in rows)


def _chief(node: Node) -> int | None:
    """The owner a task defaults to: the sealed area's building chief, else the grid chief."""
    for level, role in (("building", PostRole.BUILDING_CHIEF), ("grid", PostRole.GRID_CHIEF)):
        at = getattr(node, f"{level}_id")
        if at:
            post = Post.objects.filter(role=role, node_id=at, ended_on__isnull=True).first()
            if post is not None:
                return post.person_id
    return None


@transaction.atomic
def case_confirm(*, actor, case: Case, source: str = "web") -> Bundle:
    """Confirm a case's proposal: put its areas under their levels (a stricter level already
    there is kept), and open one bundle of tasks. Confirming again — or two commanders at the
    same moment — gives the one bundle (the case row is locked, and the bundle is unique per
    case)."""
    case = Case.objects.select_for_update().select_related("node").get(pk=case.pk)
    if (found := Bundle.objects.filter(case=case).first()) is not None:
        return found
    proposed = list(case.proposed.select_related("node").order_by("node__depth"))
    sealed = [p for p in proposed if p.level == ControlLevel.SEALED]
    if not sealed:
        raise DomainError(_("A case seals at least one area."), field="level")
    if _user(actor) is not None:
        beyond = [
            Problem(
                "node",
                _("You may not set a level on %(node)s: drop it or ask a commander above.")
                % {"node": p.node.name},
                i,
            )
            for i, p in enumerate(proposed, start=1)
            if not scope.can(actor, CHANGE, p.node)
        ]
        if beyond:
            raise DomainError(beyond)
    now = timezone.now()
    # No name nor place: the reason is read by everyone under the area (a community's).
    reason = _("Confirmed case #%(id)s") % {"id": case.pk}
    set_areas = []
    for p in proposed:
        current = ControlArea.objects.filter(node=p.node, lifted_at__isnull=True).first()
        if current is not None and _RANK[current.level] <= _RANK[p.level]:
            set_areas.append(current)
            continue
        set_areas.append(
            areas.control_set(
                actor=actor, node=p.node, level=p.level, reason=reason, since=now, source=source
            )
        )
    target = sealed[-1].node  # the lowest sealed area
    bundle = Bundle(case=case, node=target, confirmed_by=_user(actor), confirmed_at=now)
    bundle.locate(target)
    try:
        with transaction.atomic():
            bundle.save()
    except IntegrityError:  # confirmed by another commander at this moment
        raise DomainError(_("This case was just confirmed; reload."), field="case") from None
    bundle.areas.set(set_areas)
    owner = _chief(target)
    tasks = []
    for kind, hours in DEADLINE_HOURS.items():
        task = Task(
            bundle=bundle,
            kind=kind,
            owner_id=owner,
            deadline=now + dt.timedelta(hours=hours),
        )
        task.locate(target)
        tasks.append(task)
    Task.objects.bulk_create(tasks)
    for task in tasks:
        _open(actor, bundle, task, source)
    before = history.snapshot(case, CASE_FIELDS)
    case.state = CaseState.CONFIRMED
    case.save(update_fields=["state"])
    history.record_update(actor, case, before, CASE_FIELDS, source=source)
    history.record(
        actor,
        bundle,
        "create",
        {
            "case": [None, case.name],
            "areas": [None, "; ".join(f"{a.node.name}:{a.level}" for a in set_areas)],
            "tasks": [None, len(tasks)],
        },
        source=source,
    )
    return bundle


def _open(actor, bundle: Bundle, task: Task, source: str) -> None:
    """Open a task's work in its module (its opener), in a savepoint: a refusal there (bad
    input, or the confirming login may not do that part) leaves the task open with the
    reason, for a person to do by hand."""
    opener = registry.OPENERS.get(task.kind) or _OWN_OPENERS.get(task.kind)
    if opener is None:
        return
    try:
        with transaction.atomic():
            opened = opener(actor=actor, bundle=bundle, task=task)
    except (DomainError, PermissionDenied) as e:  # e.g. the order would reach nobody
        task.note = str(e)[:200]
    else:
        task.ref_id = opened.ref_id
        task.owner_id = opened.owner_id or task.owner_id
        task.note = opened.note[:200]
        if opened.ref_id is not None:
            task.state = TaskState.IN_PROGRESS
    task.save(update_fields=["ref_id", "owner_id", "note", "state"])


def _tracing(*, actor, bundle: Bundle, task: Task) -> registry.Opened:
    """A tracing call list (source "tracing") on the case's grid: the contacts the tracers
    find go into it, and each matched one is called back on their grid."""
    case = bundle.case
    at = Node.objects.get(pk=case.node.grid_id or case.node.community_id)
    call_list = screening.call_list_open(
        actor=actor,
        node=at,
        kind=ListKind.TRACING,
        name=_("Contacts of %(name)s") % {"name": case.name},
    )
    return registry.Opened(ref_id=call_list.pk)


def _dispatch(*, actor, bundle: Bundle, task: Task) -> registry.Opened:
    """Reserve cadres of the area's community, available and not sent anywhere today, sent
    into the sealed area for two weeks."""
    community = Node.objects.get(pk=bundle.node.community_id)
    today = timezone.localdate()
    persons = list(
        pool(actor, community, availability="available", day=today).filter(deployed=False)[
            :DISPATCHED
        ]
    )
    if not persons:
        raise DomainError(_("No reserve cadre of the community is available."), field="persons")
    dispatch = mobilization.dispatch_create(
        persons=persons,
        kind=DeploymentKind.RESERVE,
        starts_on=today,
        ends_on=today + dt.timedelta(days=13),
        node=bundle.node,
        note=str(bundle.case)[:200],
        actor=actor,
    )
    return registry.Opened(ref_id=dispatch.pk)


def _transfers(*, actor, bundle: Bundle, task: Task) -> registry.Opened:
    """The case's own transfer to the designated hospital (the BASTION_RESPONSE_HOSPITAL
    setting), planned now and attached to the bundle (source "response"): the task lists
    it and the transfers the commanders add for the bundle's contacts."""
    case = bundle.case
    if case.resident is None:
        raise DomainError(
            _("The case is not on the register: plan their transfer by hand."), field="resident"
        )
    transfer = transfer_plan(
        actor=actor,
        destination=Destination.HOSPITAL,
        reason=Reason.POSITIVE,
        resident=case.resident,
        to_hospital=getattr(settings, "BASTION_RESPONSE_HOSPITAL", "") or _("Designated hospital"),
        source=TRANSFER_SOURCE,
        source_id=bundle.pk,
        via="incidents",
    )
    return registry.Opened(ref_id=transfer.pk)


_OWN_OPENERS = {
    TaskKind.TRACING: _tracing,
    TaskKind.DISPATCH: _dispatch,
    TaskKind.TRANSFERS: _transfers,
}


@transaction.atomic
def task_update(
    *,
    actor,
    task: Task,
    state: str | None = None,
    deadline: dt.datetime | None = None,
    owner_id: int | None = None,
    note: str | None = None,
    source: str = "web",
) -> Task:
    """Move a task on (open → in progress → done, or back), give it another owner or
    deadline. A deadline in the past is refused."""
    task = Task.objects.select_for_update().get(pk=task.pk)
    problems = []
    now = timezone.now()
    if state is not None and state not in TaskState.values:
        problems.append(Problem("state", _("Choose open, in progress or done.")))
    if deadline is not None and deadline < now:
        problems.append(Problem("deadline", _("The deadline has passed.")))
    if owner_id is not None and not Person.objects.filter(pk=owner_id).exists():
        problems.append(Problem("owner", _("Unknown person.")))
    if problems:
        raise DomainError(problems)
    before = history.snapshot(task, TASK_FIELDS)
    if state is not None and state != task.state:
        task.state = state
        task.done_at = now if state == TaskState.DONE else None
    if deadline is not None:
        task.deadline = deadline
    if owner_id is not None:
        task.owner_id = owner_id
    if note is not None:
        task.note = note.strip()[:200]
    task.save()
    history.record_update(actor, task, before, TASK_FIELDS, source=source)
    return task


@transaction.atomic
def disinfection_record(
    *,
    actor,
    node: Node,
    place: str,
    agent: str,
    person: str,
    at: dt.datetime | None = None,
    bundle: Bundle | None = None,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> Disinfection:
    """Record one disinfection. In a bundle, its node lies in the bundle's sealed area, and
    the bundle's disinfection task is under way from the first one."""
    now = timezone.now()
    at = at or now
    problems = []
    for field, value in (("place", place), ("agent", agent), ("person", person)):
        if not value.strip():
            problems.append(Problem(field, _("This field is required.")))
    if at > now + dt.timedelta(minutes=5):
        problems.append(Problem("at", _("A disinfection is recorded when done, not before.")))
    if bundle is not None and getattr(node, f"{bundle.node.level}_id") != bundle.node_id:
        problems.append(Problem("node", _("The place lies outside the sealed area.")))
    if problems:
        raise DomainError(problems)
    if client_id and (found := Disinfection.objects.filter(client_id=client_id).first()):
        return found
    row = Disinfection(
        bundle=bundle,
        node=node,
        place=place.strip()[:100],
        agent=agent.strip()[:60],
        person=person.strip()[:50],
        at=at,
        recorded_by=_user(actor),
        client_id=client_id,
    )
    row.locate(node)
    row.save()
    history.record_created(actor, row, DISINFECTION_FIELDS, source=source)
    if bundle is not None:
        Task.objects.filter(bundle=bundle, kind=TaskKind.DISINFECTION, state=TaskState.OPEN).update(
            state=TaskState.IN_PROGRESS
        )
    return row


@transaction.atomic
def area_lift(
    *, actor, area: ControlArea, at: dt.datetime | None = None, source: str = "web"
) -> ControlArea:
    """Lift an area under the rule (`queries.lift_check`): refused, naming the rule and the
    figures, while it fails; nothing written."""
    check = queries.lift_check(area, at=at)
    if not check.ok:
        raise DomainError(check.problems())
    return areas.control_lift(actor=actor, area=area, at=at, source=source)


# The disease-control system's list of cases, as exchanged (.xlsx or .csv).
CASE_COLUMNS = (
    Column("reference", "病例编号", "Case number", required=True),
    Column("id_number", "身份证号", "ID number", required=True, aliases=("身份证号码",)),
    Column("name", "姓名", "Name", required=True),
    Column("reported_at", "报告时间", "Reported at"),
)


def _reported(value, problems: list[Problem], row: int) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return timezone.make_aware(value) if timezone.is_naive(value) else value
    text = cell_text(value)
    if not text:
        return None
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d"):
        try:
            return timezone.make_aware(dt.datetime.strptime(text, fmt))
        except ValueError:
            continue
    problems.append(Problem("reported_at", _("Write the time as 2026-12-08 09:30."), row))
    return None


@transaction.atomic
def cases_import(*, actor, filename: str, content: bytes, via: str = "web") -> list[Case]:
    """Import the disease-control system's cases, all or nothing: each row's resident found
    by ID number among those the importer may change; every bad row listed (row and field)
    and nothing kept. A case number already imported is the same case."""
    sheet = sheet_read(filename=filename, content=content, known=header_index(CASE_COLUMNS))
    keys = header_index(CASE_COLUMNS)
    where = {
        keys.get(header_key(h)): i for i, h in enumerate(sheet.header) if header_key(h) in keys
    }
    missing = [c for c in CASE_COLUMNS if c.required and c.key not in where]
    if missing:
        raise DomainError(
            [
                Problem("file", _("The column %(column)s is missing.") % {"column": c.zh})
                for c in missing
            ]
        )
    problems: list[Problem] = []
    found = []
    for row, cells in sheet.rows:

        def cell(key, cells=cells):
            i = where.get(key)
            return cells[i] if i is not None and i < len(cells) else None

        reference = cell_text(cell("reference"))[:40]
        name = cell_text(cell("name"))
        if not reference:
            problems.append(Problem("reference", _("The case number is required."), row))
        if not name:
            problems.append(Problem("name", _("Name is required."), row))
        resident = None
        try:
            number = parse_id_number(cell_text(cell("id_number"))).number
        except ValidationError as e:
            problems.append(Problem("id_number", e.messages[0], row))
        else:
            resident = Resident.objects.restrict(actor, CHANGE).filter(id_number=number).first()
            if resident is None:
                problems.append(
                    Problem("id_number", _("No resident with this ID number in your area."), row)
                )
        reported_at = _reported(cell("reported_at"), problems, row)
        if reported_at and reported_at > timezone.now() + dt.timedelta(minutes=5):
            problems.append(
                Problem("reported_at", _("A case is reported now or in the past."), row)
            )
        found.append((reference, name, resident, reported_at))
    if not sheet.rows:
        problems.append(Problem("file", _("The file has no case.")))
    if problems:
        raise DomainError(problems)
    units = Node.objects.in_bulk({r.unit_id for _ref, _n, r, _at in found})
    return [
        case_record(
            actor=actor,
            node=units[resident.unit_id],
            name=name,
            resident=resident,
            source=CaseSource.IMPORT,
            reference=reference,
            reported_at=reported_at,
            via=via,
        )
        for reference, name, resident, reported_at in found
    ]
