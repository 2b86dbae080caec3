"""Reads of notifications: a login's inbox (its own deliveries only), the unread count, and
the command's view of what was sent in its area with who has read it (scoped by the node
each notification concerns)."""

from dataclasses import dataclass

from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bastion.accounts.models import Role, RoleAssignment
from bastion.core.scope import REVEAL, get_scoped_or_404
from bastion.geo.changes import login_name
from bastion.geo.identity import mask_mobile
from bastion.notices.kinds import urgent_kinds
from bastion.notices.models import Delivery, Notification


def _mine(user) -> Q:
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    return Q(user=user) | Q(user__isnull=True, person__user=user)


def inbox(user) -> QuerySet[Delivery]:
    """The login's deliveries, unread first, urgent ones (`notices.kinds`) first among them,
    newest first."""
    return (
        Delivery.objects.filter(_mine(user))
        .select_related("notification", "notification__node")
        .annotate(
            unread=ExpressionWrapper(Q(read_at__isnull=True), BooleanField()),
            urgent=ExpressionWrapper(
                Q(notification__kind__in=sorted(urgent_kinds())), BooleanField()
            ),
        )
        .order_by("-unread", "-urgent", "-notification__created_at", "-id")
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


# Why someone got a notification (`Delivery.reason`), as the receipts name it; a login's role
# (accounts.Role) is named by its own label.
REASON_LABELS = {
    "grid_chief": _("Grid chief"),
    "community_staff": _("Community staff"),
    "home_team": _("Home-sampling team"),
    "police_liaison": _("Police liaison"),
    "command": pgettext_lazy("notified as", "Command"),
}


@dataclass(frozen=True)
class Receipt:
    """One recipient as the command reads them to chase an unread notification."""

    delivery: Delivery
    name: str  # the person's name, else the login's full name, else the login name
    role: str  # why they got it, in words
    phone: str  # masked; shown in full only through the logged reveal
    person_id: int | None  # whose phone it is
    revealable: bool  # the viewer's role may reveal it
    has_login: bool


def _role_label(reason: str, roles: list[str]) -> str:
    """Why they got it where that names a role (a positive pool's grid chief, home team...),
    else the login's own role (a command's notice to all), else the reason in words."""
    if reason in REASON_LABELS and reason != "command":
        return str(REASON_LABELS[reason])
    if reason in Role.values:
        return str(Role(reason).label)
    if roles:
        return str(Role(roles[0]).label)
    return str(REASON_LABELS.get(reason, reason))


def receipts(notification: Notification, viewer=None) -> list[Receipt]:
    """Who got it and when each read it, unread first: by name, role and (masked) phone, and
    whether `viewer` may reveal the phone to call them."""
    rows = list(
        notification.deliveries.select_related("person__user", "user__person").order_by(
            F("read_at").asc(nulls_first=True), "reason", "id"
        )
    )
    roles: dict[int, list[str]] = {}
    for user_id, role in (
        RoleAssignment.objects.filter(user_id__in={d.user_id for d in rows if d.user_id})
        .order_by("pk")
        .values_list("user_id", "role")
    ):
        roles.setdefault(user_id, []).append(role)
    persons = {d.pk: d.person or getattr(d.user, "person", None) for d in rows}
    may_reveal: set[int] = set()
    if viewer is not None:  # people.Person through the delivery: notices imports no module
        person_model = Delivery._meta.get_field("person").related_model
        may_reveal = set(
            person_model.objects.restrict(viewer, REVEAL)
            .filter(pk__in=[p.pk for p in persons.values() if p is not None])
            .values_list("pk", flat=True)
        )
    out = []
    for d in rows:
        person = persons[d.pk]
        out.append(
            Receipt(
                delivery=d,
                name=person.name if person is not None else login_name(d.user),
                role=_role_label(d.reason, roles.get(d.user_id, [])),
                phone=mask_mobile(person.phone) if person is not None else "",
                person_id=person.pk if person is not None else None,
                revealable=person is not None and bool(person.phone) and person.pk in may_reveal,
                has_login=d.user_id is not None or getattr(person, "user_id", None) is not None,
            )
        )
    return out


def for_source(user, source_type: str, source_ids: list[int]) -> dict[int, Notification]:
    """The notifications (in the login's area) about these source objects, by source id."""
    return {
        n.source_id: n for n in sent(user).filter(source_type=source_type, source_id__in=source_ids)
    }
