"""Reads of orders, shared by the pages, the API and the daily report: the orders a login
sees (issued in its area, or above it and reaching into it), its own rows as a recipient,
the issuer's board rolled up by community and grid, and the call list of the rows escalated
(computed from the clock, so a worker that is down loses no escalation)."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bastion.core import scope
from bastion.core.scope import NotFound
from bastion.geo.identity import mask_mobile
from bastion.geo.models import Node
from bastion.orders.models import Order, OrderTemplate, Recipient
from bastion.people.queries import revealable_person_ids

CALL_LIST_SHOWN = 200

FIGURES = {
    "orders_received": _("Orders received"),
    "orders_not_acknowledged": _("Orders not acknowledged in time"),
}


# --------------------------------------------------------------------------- orders


def orders_for(user, action: str = scope.VIEW) -> QuerySet[Order]:
    """Orders issued in the login's area, and (to see) those issued above it."""
    return Order.objects.filter(scope.seen_from_below_q(user, action)).select_related("node")


def order_for(user, pk: int, action: str = scope.VIEW) -> Order:
    try:
        return orders_for(user, action).get(pk=pk)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound(Order, {"pk": pk}) from None


def templates_for(user) -> QuerySet[OrderTemplate]:
    return OrderTemplate.objects.filter(scope.seen_from_below_q(user)).order_by("name", "pk")


def issue_nodes(user) -> QuerySet[Node]:
    """Where the login may issue orders: the nodes of its area down to grids."""
    return (
        Node.objects.restrict(user, scope.CHANGE)
        .filter(level__in=["city", "district", "street", "community", "grid"])
        .order_by("path")
    )


# --------------------------------------------------------------------------- the recipient


def _own(user) -> Q:
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    return Q(person__user=user)


def my_rows(user) -> QuerySet[Recipient]:
    """The login's own rows (it is the person the order reached), open ones first."""
    return (
        Recipient.objects.filter(_own(user))
        .select_related("order", "order__node")
        .order_by(F("done_at").asc(nulls_first=True), "-order__issued_at", "-id")
    )


def my_row(user, order_id: int) -> Recipient:
    """The login's own row of an order; anyone else's is as absent as a missing one."""
    try:
        return my_rows(user).get(order_id=order_id)
    except (Recipient.DoesNotExist, ValueError, TypeError):
        raise NotFound(Recipient, {"order_id": order_id}) from None


def row_for(user, order_id: int, recipient_id: int) -> Recipient:
    """A recipient row of an order the login may see through its scope (its done photo)."""
    try:
        return Recipient.objects.restrict(user).get(pk=recipient_id, order_id=order_id)
    except (Recipient.DoesNotExist, ValueError, TypeError):
        raise NotFound(Recipient, {"recipient_id": recipient_id}) from None


# --------------------------------------------------------------------------- the board


@dataclass
class Tally:
    total: int = 0
    acknowledged: int = 0
    done: int = 0
    late: int = 0  # not acknowledged past the deadline: escalated

    @property
    def waiting(self) -> int:
        return self.total - self.acknowledged


@dataclass
class BoardLine:
    community: str
    grid: str
    tally: Tally


@dataclass
class Board:
    order: Order
    tally: Tally
    lines: list[BoardLine] = field(default_factory=list)
    overdue: bool = False


def board(user, order: Order, *, now: dt.datetime | None = None) -> Board:
    """Acknowledged / not / done of the rows the login sees, per community and grid (one
    GROUP BY), and the whole; rows not acknowledged past the deadline count as late."""
    now = now or timezone.now()
    overdue = order.ack_by <= now
    rows = (
        Recipient.objects.restrict(user)
        .filter(order=order)
        .order_by()
        .values("community_id", "grid_id")
        .annotate(
            total=Count("id"),
            acknowledged=Count("id", filter=Q(acknowledged_at__isnull=False)),
            done=Count("id", filter=Q(done_at__isnull=False)),
        )
    )
    rows = list(rows)
    ids = {r["community_id"] for r in rows} | {r["grid_id"] for r in rows}
    names = dict(Node.objects.filter(pk__in=ids - {None}).values_list("pk", "name"))
    paths = dict(Node.objects.filter(pk__in=ids - {None}).values_list("pk", "path"))
    whole = Tally()
    lines = []
    for r in sorted(
        rows, key=lambda r: (paths.get(r["community_id"], ""), paths.get(r["grid_id"], ""))
    ):
        late = r["total"] - r["acknowledged"] if overdue else 0
        tally = Tally(r["total"], r["acknowledged"], r["done"], late)
        lines.append(
            BoardLine(
                names.get(r["community_id"], _("whole street")),
                names.get(r["grid_id"], "—"),
                tally,
            )
        )
        for name in ("total", "acknowledged", "done", "late"):
            setattr(whole, name, getattr(whole, name) + getattr(tally, name))
    return Board(order, whole, lines, overdue)


@dataclass
class Call:
    row: Recipient
    phone: str  # masked
    above_phone: str  # masked
    revealable: bool
    above_revealable: bool


def call_list(
    user, order: Order, *, now: dt.datetime | None = None, limit: int = CALL_LIST_SHOWN
) -> list[Call]:
    """The recipients the login sees who have not acknowledged past the deadline, in the
    tree's order, each with the chief above them to call: numbers masked, and whether the
    login may reveal each (through the logged reveal)."""
    now = now or timezone.now()
    if order.ack_by > now:
        return []
    rows = list(
        Recipient.objects.restrict(user)
        .filter(order=order, acknowledged_at__isnull=True)
        .select_related("person", "above", "node")
        .order_by("node__path", "person__name", "pk")[:limit]
    )
    ids = {r.person_id for r in rows} | {r.above_id for r in rows if r.above_id}
    revealable = revealable_person_ids(user, list(ids))
    return [
        Call(
            r,
            mask_mobile(r.person.phone),
            mask_mobile(r.above.phone) if r.above_id else "",
            r.person_id in revealable,
            r.above_id in revealable,
        )
        for r in rows
    ]


def escalation_names(order: Order, *, now: dt.datetime) -> list[tuple[str, str | None]]:
    """(recipient, chief above) names of every row escalated, in the tree's order (tests
    and the API's call list read the same order)."""
    if order.ack_by > now:
        return []
    return list(
        Recipient.objects.filter(order=order, acknowledged_at__isnull=True)
        .order_by("node__path", "person__name", "pk")
        .values_list("person__name", "above__name")
    )


# --------------------------------------------------------------------------- the daily report


def daily_figures(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per grid: order rows whose deadline to acknowledge fell on `day` (local), and those
    of them not acknowledged by it."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = start + dt.timedelta(days=1)
    rows = (
        Recipient.objects.filter(
            grid_id__in=grid_ids, order__ack_by__gte=start, order__ack_by__lt=end
        )
        .order_by()
        .values("grid_id")
        .annotate(
            received=Count("id"),
            late=Count(
                "id",
                filter=Q(acknowledged_at__isnull=True) | Q(acknowledged_at__gt=F("order__ack_by")),
            ),
        )
    )
    return {
        r["grid_id"]: {"orders_received": r["received"], "orders_not_acknowledged": r["late"]}
        for r in rows
    }


def tallies(user, orders: list[Order], *, now: dt.datetime) -> dict[int, Tally]:
    """Acknowledged / done / late of each order's rows the login sees (one GROUP BY)."""
    rows = (
        Recipient.objects.restrict(user)
        .filter(order__in=[o.pk for o in orders])
        .order_by()
        .values("order_id")
        .annotate(
            total=Count("id"),
            acknowledged=Count("id", filter=Q(acknowledged_at__isnull=False)),
            done=Count("id", filter=Q(done_at__isnull=False)),
        )
    )
    late_orders = {o.pk for o in orders if o.ack_by <= now}
    return {
        r["order_id"]: Tally(
            r["total"],
            r["acknowledged"],
            r["done"],
            r["total"] - r["acknowledged"] if r["order_id"] in late_orders else 0,
        )
        for r in rows
    }
