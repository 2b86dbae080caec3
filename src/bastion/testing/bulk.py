"""A lean multi-row INSERT for the high-volume tables (scans, and tubes in bulk).

`bulk_create` builds a model object per row and compiles every value through the ORM, which
costs more than the database itself at thousands of rows per second. Here the rows are plain
tuples in a fixed column order, adapted once per column type (UUIDs and datetimes as the
backend stores them), and sent as one `INSERT ... VALUES (...), (...) RETURNING id` per chunk:
a single statement per batch of scans on both SQLite and PostgreSQL.
"""

import datetime as dt
from collections.abc import Callable, Sequence

from django.conf import settings
from django.db import connection, models

# Parameters per statement: below SQLite's compiled limit (32,766 since 3.32) and
# PostgreSQL's 65,535.
MAX_PARAMS = 30_000


def _sqlite_datetime(value: dt.datetime | None) -> str | None:
    """What Django's SQLite backend stores for an aware datetime: naive UTC text."""
    if value is None:
        return None
    return str(value.astimezone(dt.UTC).replace(tzinfo=None))


def _adapter(field: models.Field) -> Callable | None:
    native_uuid = connection.features.has_native_uuid_field
    if isinstance(field, models.UUIDField) and not native_uuid:
        return lambda v: None if v is None else v.hex
    if isinstance(field, models.DateTimeField):
        if connection.vendor == "sqlite" and settings.USE_TZ:
            return _sqlite_datetime
        return connection.ops.adapt_datetimefield_value
    return None


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence]
) -> list[int]:
    """Insert `rows` (tuples of values for `columns`, given by attname, e.g. "tube_id") and
    return their new ids in order."""
    if not rows:
        return []
    meta = model._meta
    fields = [meta.get_field(c) for c in columns]  # by name or attname
    adapters = [(i, a) for i, f in enumerate(fields) if (a := _adapter(f)) is not None]
    qn = connection.ops.quote_name
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES "
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = f" RETURNING {qn(meta.pk.column)}"
    per_statement = max(1, MAX_PARAMS // len(fields))
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params: list = []
            for row in chunk:
                values = list(row)
                for i, adapt in adapters:
                    values[i] = adapt(values[i])
                params.extend(values)
            cursor.execute(head + ", ".join([one] * len(chunk)) + tail, params)
            ids.extend(r[0] for r in cursor.fetchall())
    return ids
