"""Every write of notifications: send one (idempotent per source object and per recipient)
and mark a delivery read. Keyword-only, transactional."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Model
from django.utils import timezone, translation

from bastion.core import history
from bastion.core.bulk import copy_rows
from bastion.core.errors import DomainError
from bastion.geo.models import Node
from bastion.notices.models import Delivery, Notification


@dataclass(frozen=True)
class Recipient:
    """Who gets a notification: a person (with their login if they have one) or a login."""

    person_id: int | None = None
    user_id: int | None = None
    reason: str = ""


def source_label(obj: Model) -> str:
    return history.object_type(obj)


def _unique(recipients: Iterable[Recipient]) -> list[Recipient]:
    """One recipient per login (else per person), the first reason kept; a person's login
    found in another entry merges the two."""
    seen_users: set[int] = set()
    seen_persons: set[int] = set()
    kept: list[Recipient] = []
    for r in recipients:
        if r.person_id is None and r.user_id is None:
            continue
        if (r.user_id is not None and r.user_id in seen_users) or (
            r.person_id is not None and r.person_id in seen_persons
        ):
            continue
        kept.append(r)
        if r.user_id is not None:
            seen_users.add(r.user_id)
        if r.person_id is not None:
            seen_persons.add(r.person_id)
    return kept


def in_every_language(write: Callable[[], tuple[str, str]]) -> dict[str, list[str]]:
    """A system-written (title, body) in each language of the UI, for `notification_send`'s
    `texts`: `write` runs once per language with that language active."""
    texts = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            texts[language] = list(write())
    return texts


def notification_send(
    *,
    kind: str,
    title: str,
    node: Node,
    recipients: Iterable[Recipient],
    body: str = "",
    link: str = "",
    source: Model | None = None,
    sender=None,
    at=None,
    texts: dict[str, list[str]] | None = None,
) -> Notification:
    """Send a notification to its recipients. With a source object it is sent once: sending
    again for the same kind and source only adds the recipients that do not have it yet (and
    keeps the first text), so a re-run changes nothing. `texts` (see `in_every_language`)
    lets each reader see it in their language; `title` and `body` are the system's."""
    if not title.strip():
        raise DomainError("A notification needs a title.", field="title")
    source_type = source_label(source) if source is not None else ""
    source_id = source.pk if source is not None else None
    with transaction.atomic():
        notification = None
        if source_id is not None:
            notification = (
                Notification.objects.select_for_update()
                .filter(kind=kind, source_type=source_type, source_id=source_id)
                .first()
            )
        if notification is None:
            notification = Notification(
                kind=kind,
                title=title[:200],
                body=body,
                link=link[:300],
                node=node,
                source_type=source_type,
                source_id=source_id,
                sender=sender if sender is not None and sender.is_authenticated else None,
                created_at=at or timezone.now(),
                texts=texts or {},
            )
            notification.locate(node)
            notification.save()
            history.record(
                sender,
                notification,
                "create",
                {"title": [None, notification.title]},
                source="system",
            )
        have = list(notification.deliveries.values_list("person_id", "user_id"))
        have_persons = {p for p, _u in have if p is not None}
        have_users = {u for _p, u in have if u is not None}
        # Plain rows (COPY on PostgreSQL): an order may reach thousands at once.
        copy_rows(
            Delivery,
            ["notification", "person", "user", "reason"],
            (
                (notification.pk, r.person_id, r.user_id, r.reason[:40])
                for r in _unique(recipients)
                if r.person_id not in have_persons and r.user_id not in have_users
            ),
        )
    return notification


def delivery_read(*, delivery: Delivery, at=None) -> Delivery:
    """Mark a delivery read (the first time only: the receipt keeps when it was first read).
    The caller has fetched it through `queries.delivery_for`, so it is the user's own."""
    if delivery.read_at is None:
        at = at or timezone.now()
        Delivery.objects.filter(pk=delivery.pk, read_at__isnull=True).update(read_at=at)
        delivery.refresh_from_db(fields=["read_at"])
    return delivery


def deliveries_read_all(*, user, at=None) -> int:
    """Mark every unread delivery of a login read."""
    from bastion.notices.queries import inbox

    return inbox(user).filter(read_at__isnull=True).update(read_at=at or timezone.now())
