"""The order pages: the list (mine to do, and those issued in my area), issuing one (blank
or from a template), the issuer's board (live through htmx, with the call list of the
escalated), and the recipient's page (one tap to acknowledge, then done with a note and a
photo). Thin: reads in `orders.queries`, writes in `orders.services`."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.core.api_support import get_for_change
from bastion.core.errors import DomainError
from bastion.core.files import stored_file_response
from bastion.core.photos import photos_check
from bastion.orders import queries, services
from bastion.orders.forms import DoneForm, IssueForm
from bastion.orders.models import TEAM
from bastion.people.mobilization.models import Team
from bastion.requests.models import Request

SHOWN = 100


def _errors_to_form(form, error: DomainError) -> None:
    for p in error.problems:
        form.add_error(p.field if p.field in form.fields else None, p.message)


@login_required
def index(request):
    user = request.user
    now = timezone.now()
    issued = list(queries.orders_for(user)[:SHOWN])
    tallies = queries.tallies(user, issued, now=now)
    return render(
        request,
        "orders/index.html",
        {
            "mine": list(queries.my_rows(user)[:SHOWN]),
            "issued": [(o, tallies.get(o.pk)) for o in issued],
            "can_issue": queries.issue_nodes(user).exists(),
            "now": now,
        },
    )


@login_required
def issue(request):
    user = request.user
    nodes = queries.issue_nodes(user)
    if not nodes.exists():
        raise PermissionDenied(_("Your role may not issue orders."))
    teams = Team.objects.restrict(user).filter(dissolved_on__isnull=True).order_by("name")
    templates = list(queries.templates_for(user))
    initial = {"node": nodes.first()}
    chosen = None
    if template_id := request.GET.get("template"):
        chosen = next((t for t in templates if str(t.pk) == template_id), None)
        if chosen is None:
            raise Http404
        initial |= {
            "title": chosen.title,
            "text": chosen.text,
            "priority": chosen.priority,
            "roles": chosen.roles,
            "ack_minutes": chosen.ack_minutes,
            "due_at": timezone.localtime() + timezone.timedelta(hours=chosen.complete_hours),
        }
    if request.method == "POST":
        form = IssueForm(request.POST, request.FILES, nodes=nodes, teams=teams)
        if form.is_valid():
            data = form.cleaned_data
            now = timezone.now()
            try:
                order = services.order_issue_once(
                    client_id=data["client_id"],
                    actor=user,
                    node=data["node"],
                    title=data["title"],
                    text=data["text"],
                    priority=data["priority"],
                    roles=data["roles"],
                    team=data["team"] if TEAM in data["roles"] else None,
                    ack_by=now + timezone.timedelta(minutes=data["ack_minutes"]),
                    due_at=data["due_at"],
                    attachments=data["attachments"],
                    template=chosen,
                    at=now,
                )
            except DomainError as e:
                _errors_to_form(form, e)
            else:
                messages.success(
                    request,
                    _("Order issued to %(n)d people.") % {"n": order.recipient_count},
                )
                return redirect("orders:board", order_id=order.pk)
    else:
        form = IssueForm(initial=initial, nodes=nodes, teams=teams)
    return render(
        request,
        "orders/issue.html",
        {"form": form, "templates": templates, "chosen": chosen},
        status=422 if request.method == "POST" else 200,
    )


@login_required
def board(request, order_id: int):
    """The issuer's board. Reading it past the deadline sends the escalation notice (once);
    the call list itself is computed from the clock."""
    user = request.user
    order = queries.order_for(user, order_id)
    now = timezone.now()
    services.order_escalate(order=order, now=now)
    context = {
        "order": order,
        "board": queries.board(user, order, now=now),
        "calls": queries.call_list(user, order, now=now),
        "attachments": list(order.attachments.all()),
        "now": now,
    }
    if request.headers.get("HX-Request"):
        return render(request, "orders/_board.html", context)
    return render(request, "orders/board.html", context)


def _order_seen(user, order_id: int):
    """The order, to a login that sees it or is one of its recipients."""
    try:
        return queries.order_for(user, order_id)
    except Http404:
        return queries.my_row(user, order_id).order


@login_required
def attachment(request, order_id: int, attachment_id: int):
    order = _order_seen(request.user, order_id)
    found = order.attachments.filter(pk=attachment_id).first()
    if found is None:
        raise Http404
    response = stored_file_response(found.file)
    response["Content-Disposition"] = f'attachment; filename="order-{order.pk}-{found.pk}"'
    return response


@login_required
def photo(request, order_id: int, recipient_id: int):
    row = queries.row_for(request.user, order_id, recipient_id)
    if not row.done_photo:
        raise Http404
    return stored_file_response(row.done_photo, row.done_photo_type)


def _mine_page(request, row, form: DoneForm, status: int = 200):
    return render(
        request,
        "orders/mine.html",
        {
            "row": row,
            "order": row.order,
            "attachments": list(row.order.attachments.all()),
            "form": form,
            "client_id": uuid.uuid4(),
            "now": timezone.now(),
        },
        status=status,
    )


@login_required
def mine(request, order_id: int):
    return _mine_page(request, queries.my_row(request.user, order_id), DoneForm())


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


@login_required
@require_POST
def acknowledge(request, order_id: int):
    row = queries.my_row(request.user, order_id)
    try:
        client_id = _uuid(request.POST.get("client_id"))
        services.order_acknowledge(actor=request.user, recipient=row, client_id=client_id)
    except DomainError as e:
        messages.error(request, str(e))
    return redirect("orders:mine", order_id=order_id)


@login_required
@require_POST
def done(request, order_id: int):
    row = queries.my_row(request.user, order_id)
    form = DoneForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            photo = form.cleaned_data["photo"]
            checked = photos_check([photo], field="photo") if photo else []
            services.order_done(
                actor=request.user,
                recipient=row,
                note=form.cleaned_data["note"],
                photo=checked[0] if checked else None,
            )
        except DomainError as e:
            _errors_to_form(form, e)
        else:
            messages.success(request, _("Reported done."))
            return redirect("orders:mine", order_id=order_id)
    return _mine_page(request, row, form, status=422)


@login_required
@require_POST
def from_decision(request, request_id: int):
    """One action on a meeting's page: the decision on this item becomes an order."""
    item = get_for_change(Request.objects.select_related("meeting"), request.user, pk=request_id)
    try:
        order = services.order_from_decision(actor=request.user, request=item)
    except DomainError as e:
        messages.error(request, str(e))
        return redirect("requests:detail", pk=request_id)
    return redirect("orders:board", order_id=order.pk)
