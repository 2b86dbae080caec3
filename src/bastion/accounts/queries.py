"""Reads for the admin pages (the reveal log and the change history, scoped to "admin") and
the bearer-token login."""

import datetime as dt
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from bastion.accounts.models import ApiToken, RevealLog, RoleAssignment, hash_token
from bastion.core import rawsql
from bastion.core.models import ChangeLog, Located
from bastion.core.scope import ADMIN, grants_prime
from bastion.geo.changes import (
    FieldChange,
    field_changes,
    login_name,
    model_label,
    referenced_names,
    source_label,
)
from bastion.geo.models import Node

user_name = login_name  # how a login is named to people


def reveal_log(
    user, *, username: str = "", since: dt.date | None = None, until: dt.date | None = None
) -> QuerySet[RevealLog]:
    """Reveals of the numbers of residents and persons inside the user's admin scope, newest
    first; optionally by one login and between two dates (inclusive, local time)."""
    entries = RevealLog.objects.restrict(user, ADMIN).select_related("user", "user__person")
    if username.strip():
        entries = entries.filter(user__username=username.strip())
    if since:
        entries = entries.filter(at__gte=_day_start(since))
    if until:
        entries = entries.filter(at__lt=_day_start(until + dt.timedelta(days=1)))
    return entries.order_by("-at", "-id")


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of `day` in local time, so the filter uses the index on `at`."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def change_log(user, *, object_type: str = "", object_id: int | None = None) -> QuerySet[ChangeLog]:
    """Recorded changes inside the user's admin scope, newest first; optionally of one type of
    object, or of one object."""
    entries = ChangeLog.objects.restrict(user, ADMIN).select_related("actor", "actor__person")
    if object_type:
        entries = entries.filter(object_type=object_type)
        if object_id is not None:
            entries = entries.filter(object_id=object_id)
    return entries.order_by("-at", "-id")


def change_object_types() -> list[tuple[str, str]]:
    """(ChangeLog.object_type, name) of every located table, the ones whose changes an admin's
    scope can reach; from the models, not from a scan of the log."""
    types = (
        f"{m._meta.app_label}.{m._meta.model_name}"
        for m in apps.get_models()
        if issubclass(m, Located) and m is not ChangeLog
    )
    return sorted(((t, model_label(t)) for t in types), key=lambda pair: pair[1])


@dataclass(frozen=True)
class ChangeRow:
    entry: ChangeLog
    kind: str  # the changed table's name, e.g. "post"
    changes: list[FieldChange]
    source: str  # how it was made, in words


def change_rows(user, entries: list[ChangeLog]) -> list[ChangeRow]:
    """Logged changes as a person reads them (`geo.changes`): names in the UI's language,
    local times, referenced rows by name, personal numbers masked."""
    names = referenced_names(user, entries)
    return [
        ChangeRow(e, model_label(e.object_type), field_changes(e, names), source_label(e.source))
        for e in entries
    ]


def token_login(raw: str) -> ApiToken | None:
    """The live token behind a raw bearer token, with its active user and the user's role
    grants (primed for `scope`); None for a wrong or revoked token or a deactivated login.
    One plain statement: every device request asks this."""
    found = rawsql.instances(
        f"SELECT {{columns}}, ra.role, n.level, ra.node_id FROM {rawsql.table(ApiToken)} t "
        f"JOIN {rawsql.table(User)} u ON u.id = t.user_id "
        f"LEFT JOIN {rawsql.table(RoleAssignment)} ra ON ra.user_id = u.id "
        f"LEFT JOIN {rawsql.table(Node)} n ON n.id = ra.node_id "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active = %s",
        [hash_token(raw), True],
        (ApiToken, "t"),
        (User, "u"),
    )
    if not found:
        return None
    token, user = found[0][:2]
    token.user = user
    grants_prime(user, [tuple(row[2:]) for row in found if row[2] is not None])
    return token
