"""Reads of notifications: a login's inbox (its own deliveries only), the unread count, and
the command's view of what was sent in its area with who has read it (scoped by the node
each notification concerns)."""

from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q, QuerySet
from django.http import Http404

from bastion.core.scope import get_scoped_or_404
from bastion.notices.models import Delivery, Notification


def _mine(user) -> Q:
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    return Q(user=user) | Q(user__isnull=True, person__user=user)


def inbox(user) -> QuerySet[Delivery]:
    """The login's deliveries, unread first, newest first."""
    return (
        Delivery.objects.filter(_mine(user))
        .select_related("notification", "notification__node")
        .annotate(unread=ExpressionWrapper(Q(read_at__isnull=True), BooleanField()))
        .order_by("-unread", "-notification__created_at", "-id")
    )


def unread_count(user) -> int:
    return Delivery.objects.filter(_mine(user), read_at__isnull=True).count()


def delivery_for(user, pk: int) -> Delivery:
    """One of the login's own deliveries; anyone else's is as absent as a missing one."""
    try:
        return inbox(user).get(pk=pk)
    except (Delivery.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def sent(user, *, kind: str = "") -> QuerySet[Notification]:
    """Notifications concerning the login's area, with their recipient and read counts."""
    rows = Notification.objects.restrict(user).select_related("node")
    if kind:
        rows = rows.filter(kind=kind)
    return rows.annotate(
        recipients=Count("deliveries"),
        read=Count("deliveries", filter=Q(deliveries__read_at__isnull=False)),
    ).order_by("-created_at", "-id")


def notification_for(user, pk: int) -> Notification:
    return get_scoped_or_404(sent(user), user, pk=pk)


def receipts(notification: Notification) -> list[Delivery]:
    """Who got it and when each read it: unread first."""
    return list(
        notification.deliveries.select_related("person", "user").order_by(
            F("read_at").asc(nulls_first=True), "reason", "id"
        )
    )


def for_source(user, source_type: str, source_ids: list[int]) -> dict[int, Notification]:
    """The notifications (in the login's area) about these source objects, by source id."""
    return {
        n.source_id: n for n in sent(user).filter(source_type=source_type, source_id__in=source_ids)
    }
