"""Every write to the tree, households, residents and command zones."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import DomainError, Problem
from bastion.geo.identity import normalise_mobile, parse_id_number
from bastion.geo.models import (
    LEVEL_ORDER,
    CommandZone,
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
)
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


def resident_clean(
    data: dict,
    *,
    row: int | None = None,
    exclude_pk: int | None = None,
    registered: set[str] | None = None,
) -> tuple[dict, list[Problem]]:
    """Validate and normalise resident fields; returns the clean values and every problem.
    Used by the single-resident services and by the importer, so both refuse the same input.
    A bulk caller passes `registered` (ID numbers already in the database, fetched in one
    query) instead of paying one query per row."""
    problems: list[Problem] = []
    clean = dict(data)
    name = (data.get("name") or "").strip()
    if not name:
        problems.append(Problem("name", _("Name is required."), row))
    elif len(name) > 50:
        problems.append(Problem("name", _("Name is longer than 50 characters."), row))
    clean["name"] = name
    if "id_number" in data:
        try:
            info = parse_id_number(data["id_number"])
            clean["id_number"] = info.number
            clean["birth_date"], clean["sex"] = info.birth_date, info.sex
        except ValidationError as e:
            problems.append(Problem("id_number", e.messages[0], row))
    if data.get("phone"):
        try:
            clean["phone"] = normalise_mobile(data["phone"])
        except ValidationError as e:
            problems.append(Problem("phone", e.messages[0], row))
    else:
        clean["phone"] = ""
    if clean.get("relation", Relation.HEAD) not in Relation.values:
        problems.append(Problem("relation", _("Unknown relation to head of household."), row))
    if clean.get("presence", Presence.HOME) not in Presence.values:
        problems.append(Problem("presence", _("Unknown presence."), row))
    number = clean.get("id_number")
    if number and not any(p.field == "id_number" for p in problems):
        if registered is not None:
            is_taken = number in registered
        else:
            taken = Resident.objects.filter(id_number=number)
            if exclude_pk:
                taken = taken.exclude(pk=exclude_pk)
            is_taken = taken.exists()
        if is_taken:
            problems.append(Problem("id_number", _("ID number is already registered."), row))
    return clean, problems


@transaction.atomic
def resident_create(*, household: Household, actor=None, source: str = "web", **fields) -> Resident:
    clean, problems = resident_clean(fields)
    if problems:
        raise DomainError(problems)
    resident = Resident(household=household, **clean)
    resident.locate(household)
    resident.save()
    history.record_created(actor, resident, RESIDENT_FIELDS, source=source)
    return resident


@transaction.atomic
def resident_update(*, resident: Resident, actor=None, source: str = "web", **fields) -> Resident:
    """Change a resident's fields (moving them means giving another `household`)."""
    before = history.snapshot(resident, RESIDENT_FIELDS)
    data = {f: getattr(resident, f) for f in RESIDENT_FIELDS if f != "household_id"}
    data.update({k: v for k, v in fields.items() if k != "household"})
    clean, problems = resident_clean(data, exclude_pk=resident.pk)
    if problems:
        raise DomainError(problems)
    for key, value in clean.items():
        setattr(resident, key, value)
    if "household" in fields:
        resident.household = fields["household"]
        resident.locate(fields["household"])
    resident.save()
    history.record(
        actor,
        resident,
        "update",
        history.diff(before, history.snapshot(resident, RESIDENT_FIELDS)),
        source=source,
    )
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
