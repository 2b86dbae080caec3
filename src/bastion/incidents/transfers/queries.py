"""Reads of transfers shared by the pages, the API, the resident's page and the daily report.
Every read goes through the scope (`Transfer.objects.restrict`: the from end or the to end)."""

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bastion.core import scope
from bastion.geo.identity import mask_document, mask_id_number, mask_name
from bastion.geo.models import Node, Resident
from bastion.incidents.transfers.models import OPEN_STATES, Destination, State, Transfer
from bastion.people.mobilization.models import Place, PlaceKind

FIGURES = {"transferred": _("Transferred")}
VIEWS = ("today", "on_the_way", "all")


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time()))
    return start, start + dt.timedelta(days=1)


def transfers_for(user, action: str = scope.VIEW) -> QuerySet:
    return Transfer.objects.restrict(user, action).select_related(
        "resident",
        "from_household__building",
        "from_household__unit",
        "from_place",
        "to_place",
        "to_household",
    )


def transfer_list(
    user, *, view: str = "today", to: str = "", node: Node | None = None, now=None
) -> QuerySet:
    """The transfers of `view`: today's (planned for today, or still open from before, or
    moving today), the ones on the way, or all; to one destination (`to`: "hospital:<name>",
    "place:<id>", "home"); under `node` (its from end)."""
    rows = transfers_for(user)
    if node is not None:
        rows = rows.filter(**{f"{node.level}_id": node.pk})
    if view == "today":
        start, end = day_bounds(timezone.localdate(now))
        rows = rows.filter(
            Q(state__in=OPEN_STATES)
            | Q(planned_at__gte=start, planned_at__lt=end)
            | Q(arrived_at__gte=start, arrived_at__lt=end)
            | Q(cancelled_at__gte=start, cancelled_at__lt=end)
        )
    elif view == "on_the_way":
        rows = rows.filter(state=State.ON_THE_WAY)
    kind, _sep, value = to.partition(":")
    if kind == "hospital" and value:
        rows = rows.filter(destination=Destination.HOSPITAL, to_hospital=value)
    elif kind == "place" and value.isdigit():
        rows = rows.filter(destination=Destination.QUARANTINE, to_place_id=int(value))
    elif kind == "home":
        rows = rows.filter(destination=Destination.HOME)
    return rows.order_by("-planned_at", "-id")


def by_destination(rows: QuerySet) -> list[dict]:
    """Counts per destination of `rows`: open (planned or on the way) and arrived, the key to
    filter the list by, largest first."""
    grouped = (
        rows.order_by()
        .values("destination", "to_hospital", "to_place_id", "to_place__name")
        .annotate(
            open=Count("id", filter=Q(state__in=OPEN_STATES)),
            on_the_way=Count("id", filter=Q(state=State.ON_THE_WAY)),
            arrived=Count("id", filter=Q(state=State.ARRIVED)),
            total=Count("id"),
        )
    )
    out = []
    for g in grouped:
        if g["destination"] == Destination.HOSPITAL:
            key, name = f"hospital:{g['to_hospital']}", g["to_hospital"]
        elif g["destination"] == Destination.QUARANTINE:
            key, name = f"place:{g['to_place_id']}", g["to_place__name"]
        else:
            key, name = "home", str(Destination.HOME.label)
        out.append(g | {"key": key, "name": name})
    return sorted(out, key=lambda r: (-r["open"], -r["total"], r["name"]))


def counts(rows: QuerySet, *, now=None) -> dict[str, int]:
    start, end = day_bounds(timezone.localdate(now))
    return rows.order_by().aggregate(
        planned=Count("id", filter=Q(state=State.PLANNED)),
        on_the_way=Count("id", filter=Q(state=State.ON_THE_WAY)),
        arrived_today=Count("id", filter=Q(arrived_at__gte=start, arrived_at__lt=end)),
    )


def transfers_of(user, resident: Resident) -> QuerySet:
    """A resident's transfers the user may see, newest first (for the resident's page)."""
    return transfers_for(user).filter(resident=resident).order_by("-planned_at", "-id")


def quarantine_sites_for(user) -> QuerySet:
    """The quarantine sites a user may send people to: those in the user's part of the tree
    (a street's command sees every site of the street; a grid's chief only a site in the
    grid, so no other area's place is named to them)."""
    return (
        Place.objects.restrict(user)
        .filter(kind=PlaceKind.QUARANTINE_SITE, closed_on__isnull=True)
        .order_by("name")
    )


def from_places_for(user) -> QuerySet:
    """Places a transfer may start from: checkpoints and quarantine sites in scope."""
    return (
        Place.objects.restrict(user, scope.CHANGE)
        .filter(kind__in=[PlaceKind.CHECKPOINT, PlaceKind.QUARANTINE_SITE, PlaceKind.GUARD_POINT])
        .filter(closed_on__isnull=True)
        .order_by("name")
    )


def may_see_health(user, transfer: Transfer) -> bool:
    """Whether the user may see why a person was transferred (health data): a role that may
    reveal numbers, at either end."""
    if scope.allows(user, scope.REVEAL, transfer):
        return True
    ends = [e for e in (transfer.to_place, transfer.to_household) if e is not None]
    return any(scope.allows(user, scope.REVEAL, e) for e in ends)


def daily_figures(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per grid of the from end: the people who left on `day` (departed, whether arrived yet
    or later called off on the way)."""
    start, end = day_bounds(day)
    rows = (
        Transfer.objects.filter(grid_id__in=grid_ids, departed_at__gte=start, departed_at__lt=end)
        .order_by()
        .values("grid_id")
        .annotate(n=Count("id"))
    )
    return {r["grid_id"]: {"transferred": r["n"]} for r in rows}


def _address(h) -> str:
    return f"{h.building.name} {h.unit.name} {h.room}"


def transfer_card(user, t: Transfer) -> dict:
    """What a list shows of one transfer: the name and the document masked, the reason only
    to a role that may see health data."""
    health = may_see_health(user, t)
    number = (t.resident.id_number or t.resident.doc_number) if t.resident else t.doc_number
    return {
        "t": t,
        "name": t.name if health else mask_name(t.name),
        "doc": mask_id_number(number) if len(number or "") == 18 else mask_document(number),
        "reason": t.get_reason_display() if health else "",
        "from": t.from_place.name if t.from_place else _address(t.from_household),
        "can_change": scope.allows(user, scope.CHANGE, t)
        or any(
            scope.allows(user, scope.CHANGE, e)
            for e in (t.to_place, t.to_household)
            if e is not None
        ),
        "can_reveal": bool(t.doc_number) and scope.allows(user, scope.REVEAL, t),
    }
