"""The inbox of the logged-in login (unread first; opening one marks it read) and, for the
command, the notifications of its area with who has read each. Thin: reads in
`notices.queries`, writes in `notices.services`."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.notices import queries, services

SHOWN = 200


@login_required
def inbox(request):
    rows = list(queries.inbox(request.user)[:SHOWN])
    return render(
        request,
        "notices/inbox.html",
        {
            "deliveries": rows,
            "unread": sum(1 for d in rows if d.read_at is None),
            "can_see_sent": scope.has_action(request.user, scope.VIEW),
        },
    )


@login_required
def delivery(request, delivery_id: int):
    """Open one notification: it is marked read (the first opening is the receipt)."""
    found = queries.delivery_for(request.user, delivery_id)
    was_unread = found.read_at is None
    services.delivery_read(delivery=found)
    return render(request, "notices/delivery.html", {"delivery": found, "was_unread": was_unread})


@login_required
@require_POST
def read_all(request):
    services.deliveries_read_all(user=request.user)
    return redirect("notices:inbox")


@login_required
def sent(request):
    rows = list(queries.sent(request.user)[:SHOWN])
    return render(request, "notices/sent.html", {"notifications": rows})


@login_required
def receipts(request, notification_id: int):
    found = queries.notification_for(request.user, notification_id)
    rows = queries.receipts(found, request.user)
    return render(
        request,
        "notices/receipts.html",
        {
            "notification": found,
            "unread_rows": [r for r in rows if r.delivery.read_at is None],
            "read_rows": [r for r in rows if r.delivery.read_at is not None],
        },
    )
