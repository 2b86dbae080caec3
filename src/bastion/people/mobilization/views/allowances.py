"""Allowance pages: the months of a node, one month with its rates and awards, computing,
closing and the ledger as .xlsx."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.core.sheets.responses import xlsx_response
from bastion.people.mobilization import queries, services
from bastion.people.mobilization.forms import MonthForm
from bastion.people.mobilization.models import AllowanceMonth, MonthStatus
from bastion.people.mobilization.views.common import (
    add_problems,
    node_asked,
    page_url,
    picked_person,
    problems_to_messages,
    section_context,
)
from bastion.people.models import Organisation


@login_required
def allowances(request):
    node = node_asked(request)
    payers = queries.payers(request.user)
    form = MonthForm(
        request.POST if request.method == "POST" else None,
        payers=payers,
        initial={"month": timezone.localdate().replace(day=1)},
    )
    if request.method == "POST":
        node = node_asked(request, scope.CHANGE)
        if form.is_valid():
            payer_id = form.cleaned_data["payer"]
            payer = (
                Organisation.objects.filter(pk=payer_id).first()
                if payer_id and payer_id in dict(payers)
                else None
            )
            try:
                month = services.allowance_month_open(
                    node=node, month=form.cleaned_data["month"], payer=payer, actor=request.user
                )
            except DomainError as error:
                add_problems(form, error)
            else:
                return redirect(page_url("allowance_month", month.pk))
    months = list(queries.months_under(request.user, node))
    totals = {m.pk: queries.month_ledger(m)["total"] for m in months[:24]}
    return render(
        request,
        "people/mobilization/allowances.html",
        {
            **section_context(request, node, "allowances"),
            "months": [{"m": m, "total": totals.get(m.pk)} for m in months],
            "form": form,
        },
    )


def _month(request, month_id: int, action: str = scope.VIEW) -> AllowanceMonth:
    return scope.get_scoped_or_404(
        AllowanceMonth.objects.select_related("node", "payer"), request.user, action, pk=month_id
    )


@login_required
@require_GET
def allowance_month(request, month_id: int):
    month = _month(request, month_id)
    ledger = queries.month_ledger(month)
    may_edit = month.status == MonthStatus.OPEN and scope.can(request.user, scope.CHANGE, month)
    text = request.GET.get("q", "")
    first, last = services.month_bounds(month.month)
    return render(
        request,
        "people/mobilization/allowance_month.html",
        {
            **section_context(request, month.node, "allowances"),
            "month": month,
            "ledger": ledger,
            "may_edit": may_edit,
            "rates": [
                {"r": r, "label": services.rate_label(r.key)}
                for r in month.rates.order_by("unit", "key")
            ],
            "awards": list(month.awards.select_related("person").order_by("awarded_on", "pk")),
            "q": text,
            "persons": list(queries.duty_candidates(request.user, text)),
            "over": last < timezone.localdate(),
            "first": first,
            "last": last,
            "rate_keys": [(k, services.rate_label(k)) for k in services.rate_keys()],
        },
    )


def _month_action(request, month_id: int, action) -> HttpResponse:
    month = _month(request, month_id, scope.CHANGE)
    try:
        action(month)
    except DomainError as error:
        problems_to_messages(request, error)
    return redirect(page_url("allowance_month", month.pk))


@login_required
@require_POST
def allowance_rate(request, month_id: int):
    def act(month):
        services.allowance_rate_set(
            month=month,
            key=request.POST.get("key", ""),
            amount=request.POST.get("amount", ""),
            actor=request.user,
        )
        messages.success(request, _("Rate saved."))

    return _month_action(request, month_id, act)


@login_required
@require_POST
def allowance_award(request, month_id: int):
    def act(month):
        person = picked_person(request)
        if person is None:
            raise DomainError(_("Choose a person: search by name or mobile."), field="person")
        services.award_grant(
            month=month,
            person=person,
            title=request.POST.get("title", ""),
            amount=request.POST.get("amount", "") or "0",
            actor=request.user,
        )
        messages.success(request, _("Award given to %(person)s.") % {"person": person})

    return _month_action(request, month_id, act)


@login_required
@require_POST
def allowance_compute(request, month_id: int):
    def act(month):
        n = services.allowance_month_compute(month=month, actor=request.user)
        messages.success(request, _("Recomputed: %(n)d lines.") % {"n": n})

    return _month_action(request, month_id, act)


@login_required
@require_POST
def allowance_close(request, month_id: int):
    def act(month):
        services.allowance_month_close(month=month, actor=request.user)
        messages.success(request, _("The month is closed."))

    return _month_action(request, month_id, act)


@login_required
@require_GET
def allowance_export(request, month_id: int):
    month = _month(request, month_id)
    content, filename = services.allowance_export(month=month)
    return xlsx_response(content, filename)
