"""What a column can hold, checked before every save of our models, so that a value too long,
too large or holding a NUL is refused as a domain error naming the field — the same on
SQLite (which would store it whole) and PostgreSQL (which would fail with a database error).

The API's bounded types (`core.api_schema`) refuse most of it at the door; this is the column's
own limit (`max_length`, an integer field's range, a decimal's digits), which the API layer
cannot know for every field. Rows that skip model saves are checked too: `bulk_create` and
`bulk_update` of our models (wrapped by `connect`), and the plain rows of `core.bulk`
(`rows_checked`); a bad row is refused with its position in the batch (from 1) and its field,
and nothing of the batch is written."""

import functools
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models.signals import pre_save
from django.utils.translation import gettext as _

from bastion.core.errors import DomainError, Problem

# The ranges of PostgreSQL's integer types, applied on SQLite too so both answer alike.
_INTEGER_RANGES = BaseDatabaseOperations.integer_field_ranges


def _integer_range(field: models.Field) -> tuple[int, int] | None:
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    return _INTEGER_RANGES.get(field.get_internal_type())


def value_problems(field: models.Field, value, row: int | None = None) -> list[Problem]:
    """Why `value` cannot be stored in `field` (nothing when it can)."""
    if isinstance(value, str):
        if "\x00" in value:
            return [Problem(field.name, _("NUL characters are not allowed."), row)]
        if field.max_length and len(value) > field.max_length:
            message = _("At most %(limit)d characters (this has %(length)d).") % {
                "limit": field.max_length,
                "length": len(value),
            }
            return [Problem(field.name, message, row)]
    elif isinstance(value, int) and not isinstance(value, bool):
        bounds = _integer_range(field)
        if bounds and not bounds[0] <= value <= bounds[1]:
            message = _("Must lie between %(low)d and %(high)d.") % {
                "low": bounds[0],
                "high": bounds[1],
            }
            return [Problem(field.name, message, row)]
    elif isinstance(field, models.DecimalField) and isinstance(value, Decimal):
        try:
            DecimalValidator(field.max_digits, field.decimal_places)(value)
        except ValidationError as e:
            return [Problem(field.name, str(m), row) for m in e.messages]
    return []


def stored_value_problems(instance: models.Model, row: int | None = None) -> list[Problem]:
    problems = []
    for field in instance._meta.concrete_fields:
        problems += value_problems(field, getattr(instance, field.attname, None), row)
    return problems


def instances_check(objs, *, rows: list[int] | None = None) -> None:
    """Refuse the whole batch if any object holds a value its column cannot store: every bad
    object named by its row (`rows[i]`, else its position from 1) and field."""
    problems = []
    for i, obj in enumerate(objs):
        problems += stored_value_problems(obj, rows[i] if rows else i + 1)
    if problems:
        raise DomainError(problems)


def rows_checked(columns, rows: Iterable[Sequence]) -> Iterator[Sequence]:
    """`rows` (tuples of the values of `columns`, model fields) as they are, refusing at the
    first that holds a value its column cannot store, named by its position from 1 and its
    field. Only columns that can hold a bad value are looked at (text, integers, decimals)."""
    watched = [
        (i, f)
        for i, f in enumerate(columns)
        if isinstance(f, (models.CharField, models.TextField, models.DecimalField))
        or _integer_range(f)
    ]
    for position, row in enumerate(rows, start=1):
        for i, f in watched:
            value = row[i]
            if value is not None and (problems := value_problems(f, value, position)):
                raise DomainError(problems)
        yield row


def _check(sender, instance, raw=False, **kwargs) -> None:
    if raw or not _ours(sender):
        return
    if problems := stored_value_problems(instance):
        raise DomainError(problems)


def _ours(model) -> bool:
    return model.__module__.startswith("bastion.")


def _checking(method):
    @functools.wraps(method)
    def checked(self, objs, *args, **kwargs):
        if _ours(self.model):
            objs = list(objs)
            instances_check(objs)
        return method(self, objs, *args, **kwargs)

    checked.stored_checked = True
    return checked


def connect() -> None:
    pre_save.connect(_check, dispatch_uid="bastion.core.stored")
    # bulk_create and bulk_update send no signal: every QuerySet's are wrapped, once.
    for name in ("bulk_create", "bulk_update"):
        method = getattr(models.QuerySet, name)
        if not getattr(method, "stored_checked", False):
            setattr(models.QuerySet, name, _checking(method))
