"""Allowances: months, rates, awards, computing, closing, the ledger as .xlsx."""

import datetime as dt
from decimal import Decimal
from uuid import UUID

from ninja import Field, Schema, Status

from bastion.core import scope
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, DetailOut, get_for_change
from bastion.core.idempotency import create_once
from bastion.core.sheets.responses import xlsx_response
from bastion.geo.identity import mask_id_number
from bastion.geo.models import Node
from bastion.people.mobilization import queries, services
from bastion.people.mobilization.api.common import (
    NodeRef,
    PersonRef,
    node_or_root,
    node_ref,
    person_ref,
    router,
)
from bastion.people.mobilization.models import (
    AllowanceMonth,
    Award,
    MonthStatus,
)
from bastion.people.models import Organisation

# Operation ids predate the split; generated clients keep their method names.
OPERATION_PREFIX = "bastion_people_api_mobilization"


class MonthIn(Schema):
    node_id: int
    month: dt.date = Field(..., description="Any day of the month.")
    payer_id: int | None = Field(None, description="Who pays those without an employer.")


class RateOut(Schema):
    key: str
    label: str
    unit: str
    amount: Decimal


class AllowanceRateIn(Schema):
    key: str = Field(..., description='A place kind, or "post:<role>".')
    amount: Decimal = Field(..., ge=0)


class AwardIn(Schema):
    person_id: int
    title: str
    amount: Decimal = Field(..., gt=0)
    node_id: int | None = Field(None, description="The awarding node; the month's if not.")
    awarded_on: dt.date | None = None
    client_id: UUID | None = None


class AwardOut(Schema):
    id: int
    person: PersonRef
    title: str
    amount: Decimal
    awarded_on: dt.date
    client_id: UUID | None


class LedgerPersonOut(Schema):
    person_id: int
    name: str
    id_number: str = Field(description="Masked.")
    payer: str
    days: int
    daily: Decimal
    monthly: Decimal
    awards: Decimal
    total: Decimal


class LedgerPayerOut(Schema):
    payer: str
    persons: int
    daily: Decimal
    monthly: Decimal
    awards: Decimal
    total: Decimal


class MonthOut(Schema):
    id: int
    node: NodeRef
    month: str = Field(description="YYYY-MM.")
    status: MonthStatus
    payer: str
    computed_at: dt.datetime | None
    closed_at: dt.datetime | None


class MonthDetailOut(MonthOut):
    rates: list[RateOut]
    persons: list[LedgerPersonOut]
    payers: list[LedgerPayerOut]
    total: Decimal


class ComputedOut(Schema):
    lines: int


def _month(m: AllowanceMonth) -> dict:
    return {
        "id": m.pk,
        "node": node_ref(m.node),
        "month": f"{m.month:%Y-%m}",
        "status": m.status,
        "payer": m.payer.name if m.payer_id else "",
        "computed_at": m.computed_at,
        "closed_at": m.closed_at,
    }


def _month_detail(month: AllowanceMonth) -> dict:
    ledger = queries.month_ledger(month)
    return {
        **_month(month),
        "rates": [
            {"key": r.key, "label": services.rate_label(r.key), "unit": r.unit, "amount": r.amount}
            for r in month.rates.order_by("key")
        ],
        "persons": [
            {**vars(p), "id_number": mask_id_number(p.id_number), "total": p.total}
            for p in ledger["persons"]
        ],
        "payers": ledger["payers"],
        "total": ledger["total"],
    }


def _month_for(user, month_id: int, *, change: bool = False) -> AllowanceMonth:
    qs = AllowanceMonth.objects.select_related("node", "payer")
    if change:
        return get_for_change(qs, user, pk=month_id)
    return scope.get_scoped_or_404(qs, user, pk=month_id)


@router.get("/allowance-months", response={200: list[MonthOut], **READ_ERRORS})
def month_list(request, node: int | None = None):
    place_node = node_or_root(request.user, node)
    return [_month(m) for m in queries.months_under(request.user, place_node)]


@router.post("/allowance-months", response={201: MonthDetailOut, **WRITE_ERRORS})
def month_open(request, payload: MonthIn):
    """Open a node's allowance ledger for a month, with the previous month's rates (or the
    configured ones)."""
    node = get_for_change(Node, request.user, pk=payload.node_id)
    payer = None
    if payload.payer_id is not None:
        payer = scope.get_scoped_or_404(Organisation, request.user, pk=payload.payer_id)
    month = services.allowance_month_open(
        node=node, month=payload.month, payer=payer, actor=request.user, source="api"
    )
    return Status(201, _month_detail(_month_for(request.user, month.pk)))


@router.get("/allowance-months/{month_id}", response={200: MonthDetailOut, **READ_ERRORS})
def month_detail(request, month_id: int):
    """A month's rates and its ledger per person and per paying body."""
    return _month_detail(_month_for(request.user, month_id))


@router.post("/allowance-months/{month_id}/rates", response={200: RateOut, **WRITE_ERRORS})
def rate_set(request, month_id: int, payload: AllowanceRateIn):
    month = _month_for(request.user, month_id, change=True)
    rate = services.allowance_rate_set(
        month=month, key=payload.key, amount=payload.amount, actor=request.user, source="api"
    )
    return {
        "key": rate.key,
        "label": services.rate_label(rate.key),
        "unit": rate.unit,
        "amount": rate.amount,
    }


@router.post(
    "/allowance-months/{month_id}/awards", response={201: AwardOut, 200: AwardOut, **WRITE_ERRORS}
)
def award_grant(request, month_id: int, payload: AwardIn):
    """A one-off amount for a person ("grid star") in an open month."""
    month = _month_for(request.user, month_id, change=True)
    person = queries.duty_person(request.user, payload.person_id)
    node = None
    if payload.node_id is not None:
        node = get_for_change(Node, request.user, pk=payload.node_id)
    award, created = create_once(
        Award,
        payload.client_id,
        request.user,
        lambda: services.award_grant(
            month=month,
            person=person,
            title=payload.title,
            amount=payload.amount,
            node=node,
            awarded_on=payload.awarded_on,
            actor=request.user,
            source="api",
        ),
    )
    return Status(
        201 if created else 200,
        {
            "id": award.pk,
            "person": person_ref(person),
            "title": award.title,
            "amount": award.amount,
            "awarded_on": award.awarded_on,
            "client_id": award.client_id,
        },
    )


@router.post("/allowance-months/{month_id}/compute", response={200: ComputedOut, **WRITE_ERRORS})
def month_compute(request, month_id: int):
    """Recompute an open month's lines from the check-ins, posts and awards."""
    month = _month_for(request.user, month_id, change=True)
    return {
        "lines": services.allowance_month_compute(month=month, actor=request.user, source="api")
    }


@router.post("/allowance-months/{month_id}/close", response={200: MonthDetailOut, **WRITE_ERRORS})
def month_close(request, month_id: int):
    """Compute the month a last time and close it; nothing of it changes afterwards."""
    month = _month_for(request.user, month_id, change=True)
    services.allowance_month_close(month=month, actor=request.user, source="api")
    return _month_detail(_month_for(request.user, month_id))


@router.get("/allowance-months/{month_id}/export", response={200: None, 404: DetailOut})
def month_export(request, month_id: int):
    """The month's ledger as .xlsx: per person, per paying body, and every line."""
    month = _month_for(request.user, month_id)
    content, filename = services.allowance_export(month=month)
    return xlsx_response(content, filename)
