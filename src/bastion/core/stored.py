"""What a column can hold, checked before every save of our models, so that a value too long,
too large or holding a NUL is refused as a domain error naming the field — the same on
SQLite (which would store it whole) and PostgreSQL (which would fail with a database error).

The API's bounded types (`core.api_schema`) refuse most of it at the door; this is the column's
own limit (`max_length`, an integer field's range, a decimal's digits), which the API layer
cannot know for every field. Rows written by `core.bulk` skip model saves and are the
services' to check."""

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


def stored_value_problems(instance: models.Model) -> list[Problem]:
    problems = []
    for field in instance._meta.concrete_fields:
        value = getattr(instance, field.attname, None)
        if isinstance(value, str):
            if "\x00" in value:
                problems.append(Problem(field.name, _("NUL characters are not allowed.")))
            elif field.max_length and len(value) > field.max_length:
                message = _("At most %(limit)d characters (this has %(length)d).") % {
                    "limit": field.max_length,
                    "length": len(value),
                }
                problems.append(Problem(field.name, message))
        elif isinstance(value, int) and not isinstance(value, bool):
            bounds = _integer_range(field)
            if bounds and not bounds[0] <= value <= bounds[1]:
                message = _("Must lie between %(low)d and %(high)d.") % {
                    "low": bounds[0],
                    "high": bounds[1],
                }
                problems.append(Problem(field.name, message))
        elif isinstance(field, models.DecimalField) and isinstance(value, Decimal):
            try:
                DecimalValidator(field.max_digits, field.decimal_places)(value)
            except ValidationError as e:
                problems.extend(Problem(field.name, str(m)) for m in e.messages)
    return problems


def _check(sender, instance, raw=False, **kwargs) -> None:
    if raw or not sender.__module__.startswith("bastion."):
        return
    if problems := stored_value_problems(instance):
        raise DomainError(problems)


def connect() -> None:
    pre_save.connect(_check, dispatch_uid="bastion.core.stored")
