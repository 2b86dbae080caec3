"""Writes of allowances: a month over a node, its rates, awards, the computed lines, closing it,
and the month's ledger as a workbook."""

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import Conflict, DomainError, Problem
from bastion.geo.models import Node
from bastion.people.mobilization.models import (
    AllowanceLine,
    AllowanceMonth,
    AllowanceRate,
    Award,
    CheckEvent,
    CheckKind,
    LineKind,
    MonthStatus,
    PlaceKind,
    RateUnit,
    mobilization_setting,
)
from bastion.people.mobilization.services.common import CENT, ancestor_ids, local_today
from bastion.people.models import Organisation, Person, Post, PostRole

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
    if first > local_today().replace(day=1):
        raise DomainError(_("That month has not begun."), field="month")
    same = (
        AllowanceMonth.objects.filter(month=first)
        .filter(Q(node_id__in=ancestor_ids(node)) | Q(**{f"{node.level}_id": node.pk}))
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
    awarded_on = awarded_on or min(local_today(), last)
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
    if last >= local_today():
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
    history.record_update(actor, month, before, MONTH_FIELDS, source=source)
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

    from bastion.core.sheets.columns import Column, is_chinese
    from bastion.core.sheets.writing import header_cells, text_cells, widths, workbook_bytes
    from bastion.geo.identity import mask_id_number
    from bastion.people.mobilization.queries.allowances import month_ledger

    language = language or translation.get_language()
    zh = is_chinese(language)

    def columns(spec):
        return [Column(key, z, e) for key, z, e in spec]

    ledger = month_ledger(month)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("按人员" if zh else "Per person")
    widths(sheet, [10, 21, 28, 10, 12, 12, 10, 12])
    sheet.freeze_panes = "A2"
    sheet.append(header_cells(sheet, columns(ALLOWANCE_PERSON_COLUMNS), language))
    for p in ledger["persons"]:
        sheet.append(
            text_cells(
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
    widths(sheet, [30, 8, 12, 12, 10, 12])
    sheet.freeze_panes = "A2"
    sheet.append(header_cells(sheet, columns(ALLOWANCE_PAYER_COLUMNS), language))
    for p in ledger["payers"]:
        sheet.append(
            text_cells(
                sheet, [p["payer"], p["persons"], p["daily"], p["monthly"], p["awards"], p["total"]]
            )
        )
    sheet.append(["合计" if zh else "Total", None, None, None, None, ledger["total"]])

    sheet = book.create_sheet("明细" if zh else "Lines")
    widths(sheet, [10, 28, 12, 16, 6, 10, 12])
    sheet.freeze_panes = "A2"
    sheet.append(header_cells(sheet, columns(ALLOWANCE_LINE_COLUMNS), language))
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
                text_cells(
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
    status = "" if month.status == MonthStatus.CLOSED else "-open"
    return workbook_bytes(book), f"allowances-{month.node.name}-{month.month:%Y-%m}{status}.xlsx"
