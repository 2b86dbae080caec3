"""Reads for the admin pages (the reveal log and the change history, scoped to "admin") and
the bearer-token login."""

import datetime as dt
from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.contrib.auth.models import User
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.accounts.models import ApiToken, RevealLog, RoleAssignment, hash_token
from bastion.core import rawsql
from bastion.core.models import ChangeLog, Located
from bastion.core.scope import ADMIN, grants_prime
from bastion.geo.identity import mask_id_number, mask_mobile
from bastion.geo.models import Node
from bastion.geo.queries import FIELD_LABELS


def user_name(user) -> str:
    """How a login is named to people: the person's name where the login is a person's,
    else the login's full name, else the login name."""
    if user is None:
        return ""
    person = getattr(user, "person", None)
    if person is not None:
        return person.name
    return user.get_full_name() or user.get_username()


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
    return sorted(
        (f"{m._meta.app_label}.{m._meta.model_name}", str(m._meta.verbose_name))
        for m in apps.get_models()
        if issubclass(m, Located) and m is not ChangeLog
    )


# Logged values that are personal numbers: the history shows them masked like everywhere else
# (a full number is shown only through a logged reveal).
MASKED_FIELDS = {"id_number": mask_id_number, "phone": mask_mobile}


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str | None  # None when the field had no value before (a creation)
    new: str


@dataclass(frozen=True)
class ChangeRow:
    entry: ChangeLog
    kind: str  # the changed table's name, e.g. "post"
    changes: list[FieldChange]


@cache
def _model_of(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _field(model, name: str):
    try:
        field = model._meta.get_field(name) if model else None
    except FieldDoesNotExist:
        return None
    # A logged name may be a reverse relation (a zone's "buildings"): no column, no label.
    return field if field is not None and field.concrete else None


def _related_names(entries: list[ChangeLog]) -> dict[tuple[type, object], str]:
    """Names of the rows that logged foreign keys point to (persons, nodes, zones...): one
    query per referenced table that has a name, whatever the number of entries."""
    wanted: dict[type, set] = {}
    for entry in entries:
        model = _model_of(entry.object_type)
        for name, values in entry.changes.items():
            field = _field(model, name)
            if field is not None and field.many_to_one and _field(field.related_model, "name"):
                wanted.setdefault(field.related_model, set()).update(
                    v for v in values if isinstance(v, int)
                )
    return {
        (related, pk): name
        for related, ids in wanted.items()
        for pk, name in related._base_manager.filter(pk__in=ids).values_list("pk", "name")
    }


def _shown(field, name: str, value, names: dict) -> str:
    if value is None or value == "":
        return "—"
    if name in MASKED_FIELDS:
        return MASKED_FIELDS[name](str(value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if field is not None and field.many_to_one:
        return names.get((field.related_model, value), f"#{value}")
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def _label(field, name: str) -> str:
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    return str(field.verbose_name).capitalize() if field is not None else name


def change_rows(entries: list[ChangeLog]) -> list[ChangeRow]:
    """Logged changes as a person reads them: field names and choices in words, referenced
    rows by name, personal numbers masked."""
    names = _related_names(entries)
    rows = []
    for entry in entries:
        model = _model_of(entry.object_type)
        changes = []
        for name, (old, new) in entry.changes.items():
            field = _field(model, name)
            changes.append(
                FieldChange(
                    _label(field, name),
                    None if old is None else _shown(field, name, old, names),
                    _shown(field, name, new, names),
                )
            )
        kind = str(model._meta.verbose_name) if model else entry.object_type
        rows.append(ChangeRow(entry, kind, changes))
    return rows


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
