"""Reads of allowances: the months over a node, a month's ledger, who may pay."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum

from bastion.core.scope import seen_from_below_q
from bastion.geo.models import (
    Node,
)
from bastion.people.mobilization.models import (
    AllowanceLine,
    AllowanceMonth,
    LineKind,
)
from bastion.people.mobilization.queries.common import within
from bastion.people.models import Organisation, OrgKind


def months_under(user, node: Node) -> QuerySet[AllowanceMonth]:
    return (
        AllowanceMonth.objects.restrict(user)
        .filter(**within(node))
        .select_related("node", "payer")
        .order_by("-month", "node__path")
    )


CENT = Decimal("0.01")


@dataclass
class LedgerPerson:
    person_id: int
    name: str
    id_number: str
    payer: str
    days: int
    daily: Decimal
    monthly: Decimal
    awards: Decimal

    @property
    def total(self) -> Decimal:
        return self.daily + self.monthly + self.awards


def month_ledger(month: AllowanceMonth) -> dict:
    """A month's ledger: one row per person and paying body (days on duty; daily, monthly and
    award amounts; total), the totals per paying body, and the grand total."""
    zero = Decimal("0.00")
    people: dict[tuple[int, int | None], LedgerPerson] = {}
    lines = (
        AllowanceLine.objects.filter(month=month)
        .values("person_id", "person__name", "person__id_number", "payer_id", "payer__name", "kind")
        .annotate(days=Sum("days"), amount=Sum("amount"))
        .order_by("person__name", "person_id")
    )
    unnamed = month.payer.name if month.payer_id else ""
    for ln in lines:
        key = (ln["person_id"], ln["payer_id"])
        row = people.get(key)
        if row is None:
            row = people[key] = LedgerPerson(
                ln["person_id"],
                ln["person__name"],
                ln["person__id_number"] or "",
                ln["payer__name"] or unnamed,
                0,
                zero,
                zero,
                zero,
            )
        amount = Decimal(ln["amount"]).quantize(CENT)  # SQLite sums decimals as floats
        if ln["kind"] == LineKind.DAILY:
            row.days += ln["days"]
            row.daily += amount
        elif ln["kind"] == LineKind.MONTHLY:
            row.monthly += amount
        else:
            row.awards += amount
    payers: dict[str, dict] = {}
    for row in people.values():
        p = payers.setdefault(
            row.payer,
            {
                "payer": row.payer,
                "persons": 0,
                "daily": zero,
                "monthly": zero,
                "awards": zero,
                "total": zero,
            },
        )
        p["persons"] += 1
        p["daily"] += row.daily
        p["monthly"] += row.monthly
        p["awards"] += row.awards
        p["total"] += row.total
    return {
        "persons": list(people.values()),
        "payers": sorted(payers.values(), key=lambda p: (-p["total"], p["payer"])),
        "total": sum((r.total for r in people.values()), zero),
    }


def payers(user) -> list[tuple[int, str]]:
    """Government bodies that may pay a month: those the user may see, and those standing on
    the nodes above the user's (the district's bureaus, the street office)."""
    orgs = Organisation.objects.filter(kind=OrgKind.GOVERNMENT).filter(
        seen_from_below_q(user, field=None)
    )
    return list(orgs.order_by("name").values_list("pk", "name")[:300])
