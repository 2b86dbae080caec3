"""Every write to the tree, households, residents and command zones."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import DomainError, Problem
from bastion.geo.identity import normalise_mobile, parse_document
from bastion.geo.models import (
    LEVEL_ORDER,
    CommandZone,
    DocKind,
    Household,
    Node,
    Presence,
    Relation,
    Resident,
    ZoneBuilding,
    ZoneKind,
    child_level,
)
from bastion.geo.signals import households_created

RESIDENT_FIELDS = (
    "name",
    "id_number",
    "phone",
    "relation",
    "presence",
    "immobile",
    "disabled",
    "chronic_illness",
    "pregnant",
    "infant",
    "household_id",
    "doc_kind",
    "doc_number",
    "guardian_id",
    "no_phone",
    "registered_address",
)
# Given by hand only for documents that do not carry them (passports, permits, none).
BIRTH_FIELDS = ("birth_date", "sex")
ADULT_AGE = 18
RESIDENT_FLAGS = ("immobile", "disabled", "chronic_illness", "pregnant", "infant")


def _locate_self(node: Node) -> None:
    """Give a node its ancestor columns: the parent's, plus its own id at its level."""
    parent = Node.objects.get_parent(node)
    if parent is not None:
        node.locate(parent)
    setattr(node, f"{node.level}_id", node.pk)
    node.save(update_fields=[f"{level}_id" for level in LEVEL_ORDER])


@transaction.atomic
def node_create(
    *,
    parent: Node | None,
    name: str,
    level: str | None = None,
    code: str = "",
    floors: int | None = None,
) -> Node:
    """Add a node under `parent` (a root city when `parent` is None)."""
    expected = child_level(parent.level) if parent else "city"
    level = level or expected
    if level != expected:
        raise DomainError(
            _("A %(parent)s can only hold a %(expected)s, not a %(level)s.")
            % {"parent": parent.level if parent else "root", "expected": expected, "level": level},
            field="level",
        )
    if not name.strip():
        raise DomainError(_("Name is required."), field="name")
    fields = {"name": name.strip(), "level": level, "code": code, "floors": floors}
    node = Node.objects.add_child(parent, fields) if parent else Node.objects.add_root(fields)
    _locate_self(node)
    return node


def household_create(
    *, unit: Node, room: str, floor: int, actor=None, source: str = "web"
) -> Household:
    if unit.level != "unit":
        raise DomainError(_("A household hangs on a unit."), field="unit")
    room = room.strip()
    if not room:
        raise DomainError(_("Room number is required."), field="room")
    if Household.objects.filter(unit=unit, room=room).exists():
        raise DomainError(
            _("Room %(room)s already exists in this unit.") % {"room": room}, field="room"
        )
    household = Household(room=room, floor=floor)
    household.locate(unit)
    household.save()
    history.record(
        actor, household, "create", {"room": [None, room], "floor": [None, floor]}, source=source
    )
    households_created.send(Household, households=[household])
    return household


def _age(birth: dt.date, today: dt.date | None = None) -> int:
    today = today or dt.date.today()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _birth_clean(data: dict, row: int | None) -> tuple[dt.date | None, str | None, list[Problem]]:
    """Birth date and sex given by hand (for documents that do not carry them)."""
    problems = []
    birth = data.get("birth_date")
    if isinstance(birth, str) and birth.strip():
        try:
            birth = dt.date.fromisoformat(birth.strip().replace("/", "-"))
        except ValueError:
            birth = None
            problems.append(Problem("birth_date", _("Birth date must be YYYY-MM-DD."), row))
    elif isinstance(birth, dt.datetime):
        birth = birth.date()
    elif not isinstance(birth, dt.date):
        birth = None
    if birth is None and not problems:
        problems.append(
            Problem("birth_date", _("Birth date is required for this document kind."), row)
        )
    elif birth is not None and (birth > dt.date.today() or birth.year < 1890):
        problems.append(Problem("birth_date", _("Birth date is impossible."), row))
    sex = data.get("sex") or None
    if sex not in ("M", "F"):
        problems.append(Problem("sex", _("Sex (M or F) is required for this document kind."), row))
    return birth, sex, problems


def _document_clean(
    data: dict, clean: dict, row: int | None
) -> tuple[tuple[str, str] | None, list[Problem]]:
    """The resident's document: the ID card number in `id_number`, another document's in
    `doc_number`, none for a child under a guardian. Returns (kind, number) to check for
    uniqueness, and the problems."""
    kind = data.get("doc_kind") or DocKind.ID_CARD
    clean["doc_kind"] = kind
    if kind not in DocKind.values:
        return None, [Problem("doc_kind", _("Unknown document kind."), row)]
    field = "id_number" if kind == DocKind.ID_CARD else "doc_number"
    clean["id_number"], clean["doc_number"] = None, ""
    if kind == DocKind.NONE:
        birth, sex, problems = _birth_clean(data, row)
        clean["birth_date"], clean["sex"] = birth, sex
        return None, problems
    raw = (data.get(field) or "").strip()
    if not raw:
        message = (
            _("ID number is required.")
            if kind == DocKind.ID_CARD
            else _("Document number is required.")
        )
        return None, [Problem(field, message, row)]
    try:
        info = parse_document(kind, raw)
    except ValidationError as e:
        return None, [Problem(field, e.messages[0], row)]
    clean[field] = info.number
    problems = []
    if info.birth_date is not None:
        clean["birth_date"], clean["sex"] = info.birth_date, info.sex or data.get("sex")
        if clean["sex"] not in ("M", "F"):
            problems.append(Problem("sex", _("Sex (M or F) is required."), row))
    else:
        clean["birth_date"], clean["sex"], problems = _birth_clean(data, row)
    return (kind, info.number), problems


def resident_clean(
    data: dict,
    *,
    row: int | None = None,
    exclude_pk: int | None = None,
    registered: set[str] | None = None,
    registered_docs: set[tuple[str, str]] | None = None,
) -> tuple[dict, list[Problem]]:
    """Validate and normalise resident fields; returns the clean values and every problem.
    Used by the single-resident services and by the importer, so both refuse the same input.
    A bulk caller passes `registered` (ID numbers already in the database) and
    `registered_docs` ((kind, number) of other documents), each fetched in one query, instead
    of paying one query per row. The guardian is checked by the caller, who knows the
    household (`guardian_problems`)."""
    problems: list[Problem] = []
    clean = {k: v for k, v in data.items() if k not in BIRTH_FIELDS}
    name = (data.get("name") or "").strip()
    if not name:
        problems.append(Problem("name", _("Name is required."), row))
    elif len(name) > 50:
        problems.append(Problem("name", _("Name is longer than 50 characters."), row))
    clean["name"] = name
    document, doc_problems = _document_clean(data, clean, row)
    problems += doc_problems
    clean["no_phone"] = bool(data.get("no_phone"))
    if data.get("phone"):
        try:
            clean["phone"] = normalise_mobile(data["phone"])
        except ValidationError as e:
            problems.append(Problem("phone", e.messages[0], row))
        if clean["no_phone"]:
            problems.append(
                Problem(
                    "no_phone",
                    _("A resident marked as having no phone cannot have a mobile number."),
                    row,
                )
            )
    else:
        clean["phone"] = ""
    address = (data.get("registered_address") or "").strip()
    if len(address) > 200:
        problems.append(
            Problem(
                "registered_address", _("Registered address is longer than 200 characters."), row
            )
        )
    clean["registered_address"] = address
    if clean.get("relation", Relation.HEAD) not in Relation.values:
        problems.append(Problem("relation", _("Unknown relation to head of household."), row))
    if clean.get("presence", Presence.HOME) not in Presence.values:
        problems.append(Problem("presence", _("Unknown presence."), row))
    if document and not any(p.field in ("id_number", "doc_number") for p in problems):
        kind, number = document
        if kind == DocKind.ID_CARD:
            if registered is not None:
                is_taken = number in registered
            else:
                taken = Resident.objects.filter(id_number=number)
                is_taken = taken.exclude(pk=exclude_pk).exists() if exclude_pk else taken.exists()
            if is_taken:
                problems.append(Problem("id_number", _("ID number is already registered."), row))
        else:
            if registered_docs is not None:
                is_taken = document in registered_docs
            else:
                taken = Resident.objects.filter(doc_kind=kind, doc_number=number)
                is_taken = taken.exclude(pk=exclude_pk).exists() if exclude_pk else taken.exists()
            if is_taken:
                problems.append(
                    Problem(
                        "doc_number",
                        _("This %(kind)s number is already registered.")
                        % {"kind": DocKind(kind).label},
                        row,
                    )
                )
    return clean, problems


def guardian_problems(
    *,
    clean: dict,
    guardian: Resident | None,
    household_id: int | None,
    row: int | None = None,
    resident_pk: int | None = None,
) -> list[Problem]:
    """A child without a document is sampled under a guardian: an adult resident of the same
    household who is known by a document. A guardian may be recorded for any minor."""
    problems = []
    birth = clean.get("birth_date")
    minor = birth is not None and _age(birth) < ADULT_AGE
    if clean.get("doc_kind") == DocKind.NONE:
        if birth is not None and not minor:
            problems.append(
                Problem(
                    "doc_kind",
                    _("Only a child under %(age)s may be registered without a document.")
                    % {"age": ADULT_AGE},
                    row,
                )
            )
        if guardian is None:
            problems.append(
                Problem("guardian", _("A child without a document needs a guardian."), row)
            )
    if guardian is None:
        return problems
    if birth is not None and not minor:
        problems.append(Problem("guardian", _("Only a minor has a guardian."), row))
    if resident_pk is not None and guardian.pk == resident_pk:
        problems.append(Problem("guardian", _("A resident cannot be their own guardian."), row))
    elif guardian.household_id != household_id:
        problems.append(
            Problem(
                "guardian",
                _("The guardian %(name)s does not live in this household.")
                % {"name": guardian.name},
                row,
            )
        )
    elif guardian.doc_kind == DocKind.NONE or guardian.age < ADULT_AGE:
        problems.append(
            Problem(
                "guardian",
                _("The guardian %(name)s must be an adult with a document.")
                % {"name": guardian.name},
                row,
            )
        )
    return problems


def _guardian(fields: dict, current_id: int | None = None) -> Resident | None:
    if "guardian" in fields:
        return fields["guardian"]
    guardian_id = fields.get("guardian_id", current_id)
    return Resident.objects.filter(pk=guardian_id).first() if guardian_id else None


@transaction.atomic
def resident_create(*, household: Household, actor=None, source: str = "web", **fields) -> Resident:
    guardian = _guardian(fields)
    fields.pop("guardian", None)
    clean, problems = resident_clean(fields)
    problems += guardian_problems(clean=clean, guardian=guardian, household_id=household.pk)
    if problems:
        raise DomainError(problems)
    clean["guardian_id"] = guardian.pk if guardian else None
    resident = Resident(household=household, **clean)
    resident.locate(household)
    resident.save()
    history.record_created(actor, resident, RESIDENT_FIELDS, source=source)
    return resident


@transaction.atomic
def resident_update(*, resident: Resident, actor=None, source: str = "web", **fields) -> Resident:
    """Change a resident's fields (moving them means giving another `household`)."""
    before = history.snapshot(resident, RESIDENT_FIELDS)
    guardian = _guardian(fields, resident.guardian_id)
    data = {f: getattr(resident, f) for f in (*RESIDENT_FIELDS, *BIRTH_FIELDS)}
    data.pop("household_id")
    data.update({k: v for k, v in fields.items() if k not in ("household", "guardian")})
    clean, problems = resident_clean(data, exclude_pk=resident.pk)
    household = fields.get("household") or resident.household
    problems += guardian_problems(
        clean=clean, guardian=guardian, household_id=household.pk, resident_pk=resident.pk
    )
    if problems:
        raise DomainError(problems)
    clean["guardian_id"] = guardian.pk if guardian else None
    for key, value in clean.items():
        setattr(resident, key, value)
    if "household" in fields:
        resident.household = fields["household"]
        resident.locate(fields["household"])
    resident.save()
    history.record_update(actor, resident, before, RESIDENT_FIELDS, source=source)
    return resident


@transaction.atomic
def zone_create(
    *, street: Node, name: str, kind: str, buildings: list[Node], actor=None
) -> CommandZone:
    """A command zone over buildings of one street; a building may be in one zone only."""
    if street.level != "street":
        raise DomainError(_("A command zone belongs to a street."), field="street")
    if kind not in ZoneKind.values:
        raise DomainError(_("Zone kind must be independent or joint."), field="kind")
    problems = [
        Problem("buildings", _("%(b)s is not a building of this street.") % {"b": b.name})
        for b in buildings
        if b.level != "building" or b.street_id != street.pk
    ]
    taken = ZoneBuilding.objects.filter(building__in=buildings).select_related("zone", "building")
    problems += [
        Problem(
            "buildings",
            _("%(b)s is already in zone %(z)s.") % {"b": m.building.name, "z": m.zone.name},
        )
        for m in taken
    ]
    if problems:
        raise DomainError(problems)
    zone = CommandZone(name=name, kind=kind)
    zone.locate(street)
    zone.save()
    ZoneBuilding.objects.bulk_create([ZoneBuilding(zone=zone, building=b) for b in buildings])
    history.record(
        actor,
        zone,
        "create",
        {
            "name": [None, name],
            "kind": [None, kind],
            "buildings": [None, [b.pk for b in buildings]],
        },
    )
    return zone
