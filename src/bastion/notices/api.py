"""Notifications over JSON (mounted at /api/v1/notices): the caller's inbox, marking one read,
and, for the command, who has read a notification of its area. Thin: reads in
`notices.queries`, writes in `notices.services`."""

import datetime as dt

from ninja import Query, Router, Schema

from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, Page
from bastion.notices import queries, services
from bastion.notices.models import Delivery, Notification

router = Router(tags=["notices"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    node_id: int
    source_type: str
    source_id: int | None
    created_at: dt.datetime


class DeliveryOut(Schema):
    id: int
    notification: NotificationOut
    reason: str
    read_at: dt.datetime | None


class InboxOut(Schema):
    unread: int
    items: list[DeliveryOut]


class ReceiptOut(Schema):
    id: int
    person_id: int | None
    user_id: int | None
    name: str
    reason: str
    read_at: dt.datetime | None


class ReceiptsOut(Schema):
    notification: NotificationOut
    recipients: int
    read: int
    receipts: list[ReceiptOut]


def _notification(n: Notification) -> dict:
    return {
        "id": n.pk,
        "kind": n.kind,
        "title": n.shown_title,
        "body": n.shown_body,
        "link": n.link,
        "node_id": n.node_id,
        "source_type": n.source_type,
        "source_id": n.source_id,
        "created_at": n.created_at,
    }


def _delivery(d: Delivery) -> dict:
    return {
        "id": d.pk,
        "notification": _notification(d.notification),
        "reason": d.reason,
        "read_at": d.read_at,
    }


@router.get("/inbox", response=InboxOut)
def inbox(request, page: Query[Page], unread: bool = False):
    """The caller's notifications, unread first; `unread=true` for the unread ones only."""
    rows = queries.inbox(request.user)
    if unread:
        rows = rows.filter(read_at__isnull=True)
    return {
        "unread": queries.unread_count(request.user),
        "items": [_delivery(d) for d in rows[page.offset : page.offset + page.limit]],
    }


@router.post("/inbox/{delivery_id}/read", response={200: DeliveryOut, **WRITE_ERRORS})
def delivery_read(request, delivery_id: int):
    """Mark one of the caller's notifications read (again: no change, the first time stays)."""
    delivery = queries.delivery_for(request.user, delivery_id)
    return _delivery(services.delivery_read(delivery=delivery))


@router.get("/sent/{notification_id}", response={200: ReceiptsOut, **READ_ERRORS})
def receipts(request, notification_id: int):
    """Who got a notification of the caller's area and who has read it."""
    n = queries.notification_for(request.user, notification_id)
    rows = queries.receipts(n)  # the API gives ids and names; numbers through the reveals
    return {
        "notification": _notification(n),
        "recipients": n.recipients,
        "read": n.read,
        "receipts": [
            {
                "id": r.delivery.pk,
                "person_id": r.delivery.person_id,
                "user_id": r.delivery.user_id,
                "name": r.name,
                "reason": r.delivery.reason,
                "read_at": r.delivery.read_at,
            }
            for r in rows
        ],
    }
