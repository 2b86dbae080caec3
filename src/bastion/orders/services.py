"""Every write of orders: issue one (recipients resolved from the current posts, written in
one multi-row insert and delivered to their inboxes in bulk), acknowledge it (one tap,
idempotent), report it done (a note and an optional photo), send the escalation notice to
the level above (once), and turn a meeting's decision into an order. Keyword-only,
transactional, refusing with the field named."""

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history, scope
from bastion.core.bulk import copy_rows
from bastion.core.errors import Conflict, DomainError, Problem
from bastion.core.levels import LEVEL_ORDER
from bastion.core.photos import CheckedPhoto
from bastion.geo.models import Node
from bastion.incidents.response.registry import Opened
from bastion.notices.models import Delivery
from bastion.notices.services import Recipient as Addressee
from bastion.notices.services import in_every_language, notification_send
from bastion.orders.models import TEAM, Attachment, Order, OrderTemplate, Priority, Recipient
from bastion.people.mobilization.models import Team, TeamMember
from bastion.people.models import CHIEF_OF_LEVEL, Post, PostRole
from bastion.requests.models import Request, Status

ACK_MINUTES = 30
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ORDER_KIND = "orders.order"
ESCALATION_KIND = "orders.escalation"
ORDER_FIELDS = ("title", "priority", "node_id", "roles", "ack_by", "due_at", "recipient_count")
CHIEF_ROLES = frozenset(r.value for r in CHIEF_OF_LEVEL.values())


def order_roles() -> list[tuple[str, str]]:
    """The roles an order can go to: every post role, and a team's members."""
    return [(r.value, r.label) for r in PostRole] + [(TEAM, _("Members of a team"))]


# --------------------------------------------------------------------------- recipients


ANCESTORS = tuple(f"{level}_id" for level in LEVEL_ORDER)


@dataclass(frozen=True)
class Resolved:
    person_id: int
    user_id: int | None
    post_id: int | None
    role: str
    node_id: int  # where the row is located (the post's node, the team's node)
    ancestors: tuple  # that node's ancestor columns, city first


def recipients_resolve(
    *, node: Node, roles: Sequence[str], team: Team | None = None
) -> list[Resolved]:
    """The current holders of `roles` in `node`'s subtree (and a team's current members),
    one per person (the first post found kept), in the tree's order. Plain rows: an order
    may reach thousands."""
    post_roles = [r for r in roles if r != TEAM]
    found: dict[int, Resolved] = {}
    if post_roles:
        posts = (
            Post.objects.filter(
                **{f"{node.level}_id": node.pk}, role__in=post_roles, ended_on__isnull=True
            )
            .order_by("node__path", "role", "pk")
            .values_list(
                "person_id", "person__user_id", "pk", "role", "node_id",
                *(f"node__{c}" for c in ANCESTORS),
            )
        )  # fmt: skip
        for person_id, user_id, pk, role, node_id, *ancestors in posts:
            if person_id not in found:
                found[person_id] = Resolved(person_id, user_id, pk, role, node_id, tuple(ancestors))
    if team is not None and TEAM in roles:
        team_node = Node.objects.values_list(*ANCESTORS).get(pk=team.node_id)
        members = (
            TeamMember.objects.filter(team=team, left_on__isnull=True)
            .order_by("pk")
            .values_list("person_id", "person__user_id")
        )
        for person_id, user_id in members:
            if person_id not in found:
                found[person_id] = Resolved(person_id, user_id, None, TEAM, team.node_id, team_node)
    return list(found.values())


def _chiefs_above(resolved: Sequence[Resolved]) -> dict[int, tuple[int, str]]:
    """For each recipient's person: (person, role) of the chief they answer to — the nearest
    current chief of the five-chief system on their own node (when they are not that chief)
    or above it, who is not themselves. One query for all the chiefs on their nodes and
    their ancestors."""
    ancestor_ids = {pk for r in resolved for pk in r.ancestors if pk is not None}
    chiefs = {
        node_id: (person_id, role)
        for node_id, person_id, role in Post.objects.filter(
            node_id__in=ancestor_ids, role__in=CHIEF_ROLES, ended_on__isnull=True
        ).values_list("node_id", "person_id", "role")
    }
    above: dict[int, tuple[int, str]] = {}
    for r in resolved:
        for node_id in reversed([pk for pk in r.ancestors if pk is not None]):
            chief = chiefs.get(node_id)
            if chief is not None and chief[0] != r.person_id:
                above[r.person_id] = chief
                break
    return above


# --------------------------------------------------------------------------- attachments


def attachments_check(uploads: Iterable[UploadedFile], *, field: str = "attachments") -> list:
    """At most five files of at most 10 MB each."""
    uploads = [u for u in uploads if u]
    if len(uploads) > MAX_ATTACHMENTS:
        raise DomainError(_("At most %(n)d files.") % {"n": MAX_ATTACHMENTS}, field=field)
    problems = [
        Problem(field, _("%(name)s is larger than 10 MB.") % {"name": u.name})
        for u in uploads
        if u.size > MAX_ATTACHMENT_BYTES
    ]
    if problems:
        raise DomainError(problems)
    return uploads


# --------------------------------------------------------------------------- issuing


def _check_issue(
    *, actor, node: Node, title: str, roles: Sequence[str], team, ack_by, due_at, now
) -> None:
    if not scope.allows(actor, scope.CHANGE, node):
        raise PermissionDenied(_("You may issue orders only inside your own area."))
    problems = []
    if not title.strip():
        problems.append(Problem("title", _("Give the order a title.")))
    known = {value for value, _label in order_roles()}
    if not roles:
        problems.append(Problem("roles", _("Choose whom the order goes to.")))
    elif unknown := [r for r in roles if r not in known]:
        problems.append(Problem("roles", _("Unknown role: %(role)s.") % {"role": unknown[0]}))
    if TEAM in roles and team is None:
        problems.append(Problem("team", _("Choose the team.")))
    if team is not None and not scope.allows(actor, scope.VIEW, team):
        problems.append(Problem("team", _("This team is outside your area.")))
    if ack_by <= now:
        problems.append(Problem("ack_by", _("The deadline to acknowledge has passed.")))
    if due_at <= now:
        problems.append(Problem("due_at", _("The deadline to complete has passed.")))
    elif due_at < ack_by:
        problems.append(
            Problem("due_at", _("The work cannot be due before the order is acknowledged."))
        )
    if problems:
        raise DomainError(problems)


def _texts(order: Order) -> dict[str, list[str]]:
    def write():
        return (
            _("Order: %(title)s") % {"title": order.title},
            _("Acknowledge by %(ack)s; complete by %(due)s.")
            % {
                "ack": timezone.localtime(order.ack_by).strftime("%m-%d %H:%M"),
                "due": timezone.localtime(order.due_at).strftime("%m-%d %H:%M"),
            },
        )

    return in_every_language(write)


@transaction.atomic
def order_issue(
    *,
    actor,
    node: Node,
    title: str,
    roles: Sequence[str],
    text: str = "",
    priority: str = Priority.ROUTINE,
    team: Team | None = None,
    ack_by: dt.datetime | None = None,
    due_at: dt.datetime,
    attachments: Sequence[UploadedFile] = (),
    template: OrderTemplate | None = None,
    source_request: Request | None = None,
    client_id: uuid.UUID | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Order:
    """Issue an order to the holders of `roles` in `node`'s subtree (and a team's members):
    one recipient row each, resolved now from the current posts, with the chief each one
    escalates to; all delivered to their inboxes as one notification. Refused naming the
    field: an empty title, a passed deadline, an order that reaches nobody."""
    now = at or timezone.now()
    ack_by = ack_by or now + dt.timedelta(minutes=ACK_MINUTES)
    roles = list(dict.fromkeys(roles))
    if priority not in Priority.values:
        raise DomainError(_("Choose a priority."), field="priority")
    _check_issue(
        actor=actor, node=node, title=title, roles=roles, team=team, ack_by=ack_by,
        due_at=due_at, now=now,
    )  # fmt: skip
    attachments = attachments_check(attachments)
    resolved = recipients_resolve(node=node, roles=roles, team=team)
    if not resolved:
        raise DomainError(
            _("Nobody holds these roles here: the order would reach no one."), field="roles"
        )
    order = Order(
        node=node,
        title=title.strip(),
        text=text,
        priority=priority,
        roles=roles,
        team=team if TEAM in roles else None,
        issued_at=now,
        issued_by=actor if getattr(actor, "pk", None) else None,
        ack_by=ack_by,
        due_at=due_at,
        template=template,
        source_type=history.object_type(source_request) if source_request else "",
        source_id=source_request.pk if source_request else None,
        recipient_count=len(resolved),
        client_id=client_id,
    )
    order.locate(node)
    order.save()
    for upload in attachments:
        item = Attachment(order=order, name=upload.name[:120], size=upload.size)
        item.file.save("file", upload, save=False)
        item.save()
    above = _chiefs_above(resolved)
    copy_rows(  # COPY on PostgreSQL, one executemany on SQLite
        Recipient,
        ["order", "person", "post", "role", "node", "above", "above_role", *ANCESTORS],
        (
            (order.pk, r.person_id, r.post_id, r.role, r.node_id,
             *(above.get(r.person_id) or (None, "")), *r.ancestors)
            for r in resolved
        ),
    )  # fmt: skip
    notification_send(
        kind=ORDER_KIND,
        title=_("Order: %(title)s") % {"title": order.title},
        body=text[:2000],
        node=node,
        recipients=[Addressee(r.person_id, r.user_id, r.role) for r in resolved],
        link=f"/orders/{order.pk}/mine/",
        source=order,
        sender=actor,
        at=now,
        texts=_texts(order),
    )
    history.record_created(actor, order, ORDER_FIELDS, source=source)
    return order


def order_issue_once(*, client_id: uuid.UUID | None, actor, **kwargs) -> Order:
    """`order_issue` once per client-made id: a retry returns the first order."""
    from bastion.core.idempotency import create_once

    order, _created = create_once(
        Order,
        client_id,
        actor,
        lambda: order_issue(actor=actor, client_id=client_id, **kwargs),
    )
    return order


# --------------------------------------------------------------------------- the recipient


def _mark_read(recipient: Recipient, at: dt.datetime) -> None:
    Delivery.objects.filter(
        notification__kind=ORDER_KIND,
        notification__source_type=history.object_type(recipient.order),
        notification__source_id=recipient.order_id,
        person_id=recipient.person_id,
        read_at__isnull=True,
    ).update(read_at=at)


@transaction.atomic
def order_acknowledge(
    *,
    actor,
    recipient: Recipient,
    client_id: uuid.UUID | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Recipient:
    """One tap: the recipient has the order. Again (a retry, a second tap): no change, the
    first time stays. A client id already used for another recipient's row is refused."""
    if client_id is not None and (
        Recipient.objects.filter(ack_client_id=client_id).exclude(pk=recipient.pk).exists()
    ):
        raise Conflict(_("This client id was already used for another record."), field="client_id")
    recipient = Recipient.objects.select_for_update().select_related("order").get(pk=recipient.pk)
    if recipient.acknowledged_at is not None:
        return recipient
    at = at or timezone.now()
    before = history.snapshot(recipient, ["acknowledged_at"])
    recipient.acknowledged_at = at
    recipient.ack_client_id = client_id
    recipient.save(update_fields=["acknowledged_at", "ack_client_id"])
    _mark_read(recipient, at)
    history.record_update(actor, recipient, before, ["acknowledged_at"], source=source)
    return recipient


@transaction.atomic
def order_done(
    *,
    actor,
    recipient: Recipient,
    note: str,
    photo: CheckedPhoto | None = None,
    at: dt.datetime | None = None,
    source: str = "web",
) -> Recipient:
    """The work is done: a note, and a photo where there is one. Reporting it done also
    acknowledges an order not acknowledged yet; reporting twice is refused."""
    recipient = Recipient.objects.select_for_update().select_related("order").get(pk=recipient.pk)
    if recipient.done_at is not None:
        raise Conflict(_("This order is already reported done."), field="done")
    if not note.strip():
        raise DomainError(_("Say in a few words what was done."), field="note")
    at = at or timezone.now()
    fields = ["acknowledged_at", "done_at", "done_note"]
    before = history.snapshot(recipient, fields)
    recipient.acknowledged_at = recipient.acknowledged_at or at
    recipient.done_at = at
    recipient.done_note = note.strip()[:500]
    if photo is not None:
        recipient.done_photo_type = photo.content_type
        recipient.done_photo.save("photo", photo.content, save=False)
    recipient.save()
    _mark_read(recipient, at)
    history.record_update(
        actor, recipient, before, fields, source=source,
        extra={"done_photo": [None, 1]} if photo else None,
    )  # fmt: skip
    return recipient


# --------------------------------------------------------------------------- escalation


def _escalation_texts(order: Order, count: int) -> dict[str, list[str]]:
    def write():
        return (
            _("Not acknowledged: %(title)s") % {"title": order.title},
            _("%(n)d recipients under you have not acknowledged this order; call them.")
            % {"n": count},
        )

    return in_every_language(write)


@transaction.atomic
def order_escalate(*, order: Order, now: dt.datetime | None = None) -> int:
    """Send the notice about the recipients still unacknowledged past the deadline to the
    chief above each of them (the issuer where there is none), once: each row's
    `escalated_at` records that it went out, and the notice is one per order, delivered
    once per chief. Answers how many rows escalated now."""
    now = now or timezone.now()
    if order.ack_by > now:
        return 0
    Order.objects.select_for_update().filter(pk=order.pk).first()  # one sender at a time
    missing = list(
        Recipient.objects.filter(
            order=order, acknowledged_at__isnull=True, escalated_at__isnull=True
        ).values_list("pk", "above_id", "above__user_id")
    )
    if not missing:
        return 0
    by_chief: dict[tuple[int | None, int | None], int] = defaultdict(int)
    for _pk, above_id, above_user in missing:
        by_chief[(above_id, above_user)] += 1
    addressees = [
        Addressee(person_id=p, user_id=u, reason="above") for (p, u) in by_chief if p is not None
    ]
    if (None, None) in by_chief and order.issued_by_id:
        addressees.append(Addressee(user_id=order.issued_by_id, reason="issuer"))
    if addressees:
        notification_send(
            kind=ESCALATION_KIND,
            title=_("Not acknowledged: %(title)s") % {"title": order.title},
            node=order.node,
            recipients=addressees,
            link=f"/orders/{order.pk}/",
            source=order,
            at=now,
            texts=_escalation_texts(order, len(missing)),
        )
    Recipient.objects.filter(pk__in=[pk for pk, _a, _u in missing]).update(escalated_at=now)
    return len(missing)


def orders_escalate_due(*, now: dt.datetime | None = None) -> int:
    """Escalate every order past its deadline with rows not yet escalated (the periodic
    task; the board does the same for its own order when it is read)."""
    now = now or timezone.now()
    due = (
        Order.objects.filter(
            ack_by__lte=now,
            recipients__acknowledged_at__isnull=True,
            recipients__escalated_at__isnull=True,
        )
        .distinct()
        .order_by("pk")
    )
    return sum(order_escalate(order=o, now=now) for o in due)


# --------------------------------------------------------------------------- from a meeting


def order_from_decision(
    *, actor, request: Request, at: dt.datetime | None = None, source: str = "web"
) -> Order:
    """One action: a decision of a meeting (an item taken there, by whom and by when) becomes
    an order to the grid chief of the item's grid, due at the end of its day. Once: the
    same decision again answers the order it already became."""
    existing = Order.objects.filter(
        source_type=history.object_type(request), source_id=request.pk
    ).first()
    if existing is not None:
        return existing
    if request.status != Status.ASSIGNED or request.meeting_id is None:
        raise DomainError(
            _("Only an item taken at a meeting (with who and by when) can become an order."),
            field="request",
        )
    now = at or timezone.now()
    due = timezone.make_aware(dt.datetime.combine(request.due_on, dt.time(18, 0)))
    node = Node.objects.get(pk=request.grid_id or request.community_id)
    text = _("Decided at %(meeting)s: taken by %(who)s, due on %(due)s.") % {
        "meeting": request.meeting.title,
        "who": request.assignee,
        "due": request.due_on.isoformat(),
    }
    if request.description:
        text += "\n\n" + request.description
    return order_issue(
        actor=actor,
        node=node,
        title=request.title,
        text=text,
        roles=[PostRole.GRID_CHIEF],
        due_at=max(due, now + dt.timedelta(minutes=ACK_MINUTES)),
        source_request=request,
        at=now,
        source=source,
    )


def response_order_issue(*, actor, bundle, task) -> Opened:
    """The outbreak response's order: the sealed area's building and unit chiefs are told
    what sealing means for their people, to acknowledge within the default time and to
    report it done by the task's deadline."""
    node = bundle.node
    order = order_issue(
        actor=actor,
        node=node,
        title=(_("Sealed: %(node)s") % {"node": node.name})[:100],
        text=_(
            "%(node)s is sealed after a confirmed case. Keep everyone at home, list who needs "
            "medicine or care, open the doors for home sampling and receive deliveries."
        )
        % {"node": node.name},
        roles=[PostRole.BUILDING_CHIEF, PostRole.UNIT_CHIEF],
        priority=Priority.URGENT,
        due_at=task.deadline,
        source="incidents",
    )
    return Opened(ref_id=order.pk)
