"""Writing and reading the change log. Services call these inside their transactions."""

from collections.abc import Iterable, Sequence

from django.db import models

from bastion.core.models import ChangeLog


def object_type(obj: models.Model) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


def _plain(value):
    if isinstance(value, models.Model):
        return value.pk
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def snapshot(obj: models.Model, fields: Sequence[str]) -> dict:
    """The current values of `fields`, as stored in the change log."""
    return {f: _plain(getattr(obj, f)) for f in fields}


def diff(before: dict, after: dict) -> dict:
    return {f: [before.get(f), after[f]] for f in after if before.get(f) != after[f]}


def _entry(actor, obj, action: str, changes: dict, source: str) -> ChangeLog:
    entry = ChangeLog(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=object_type(obj),
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        changes=changes,
        source=source,
    )
    if hasattr(obj, "city_id"):
        entry.locate(obj)
    return entry


def record(actor, obj: models.Model, action: str, changes: dict, *, source: str = "web") -> None:
    """Record one change; an update that changed nothing is not recorded."""
    if action == ChangeLog.UPDATE and not changes:
        return
    _entry(actor, obj, action, changes, source).save()


def record_update(
    actor,
    obj: models.Model,
    before: dict,
    fields: Sequence[str],
    *,
    source: str = "web",
    extra: dict | None = None,
) -> None:
    """Record an update of `obj`: its `fields` now against `before` (their `snapshot` taken
    before the change), plus `extra` changes kept elsewhere; nothing when nothing changed."""
    record(
        actor,
        obj,
        ChangeLog.UPDATE,
        diff(before, snapshot(obj, fields)) | (extra or {}),
        source=source,
    )


def record_created(actor, obj: models.Model, fields: Sequence[str], *, source: str = "web") -> None:
    """Record the creation of one row: each field from nothing to its value."""
    record(actor, obj, ChangeLog.CREATE, diff({}, snapshot(obj, fields)), source=source)


def record_many(
    actor, objs: Iterable[models.Model], action: str, fields: Sequence[str], *, source: str
) -> None:
    """Record the creation (or deletion) of many rows in one multi-row insert."""
    entries = [
        _entry(actor, obj, action, {f: [None, v] for f, v in snapshot(obj, fields).items()}, source)
        for obj in objs
    ]
    ChangeLog.objects.bulk_create(entries, batch_size=2000)


def history_of(obj: models.Model):
    return ChangeLog.objects.filter(object_type=object_type(obj), object_id=obj.pk).select_related(
        "actor"
    )
