"""Batch writes without a model instance's overhead per row: one `executemany` of a plain
INSERT or UPDATE. Used where batches are large: a phone syncing a thousand visits (the
households' new status), and the demo's tens of thousands of rows.

Values go through the backend's own adapters (dates, times, decimals, UUIDs), so the same code
runs on SQLite and PostgreSQL. Nothing here checks rules: callers are services that already
did, and the database's constraints still apply to every row.
"""

from collections.abc import Callable, Iterable, Sequence
from itertools import islice

from django.db import connection, models

BATCH = 2000


def _adapter(field: models.Field) -> Callable | None:
    """How a value of `field` goes into raw SQL on this database (None: as it is)."""
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    if isinstance(field, models.UUIDField):
        return lambda v: field.get_db_prep_value(v, connection)
    return None


def _execute(sql: str, columns: list[models.Field], rows: Iterable[Sequence]) -> None:
    adapted = [(i, a) for i, f in enumerate(columns) if (a := _adapter(f)) is not None]
    rows = iter(rows)
    with connection.cursor() as cursor:
        while chunk := [list(row) for row in islice(rows, BATCH)]:
            for row in chunk:
                for i, adapt in adapted:
                    row[i] = adapt(row[i])
            cursor.executemany(sql, chunk)


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> None:
    """INSERT `rows` (tuples of the values of `fields`, foreign keys as ids)."""
    qn = connection.ops.quote_name
    columns = [model._meta.get_field(f) for f in fields]
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in columns)})"
        f" VALUES ({', '.join(['%s'] * len(columns))})"
    )
    _execute(sql, columns, rows)


def update_rows(model: type[models.Model], fields: Sequence[str], objs: Iterable) -> None:
    """UPDATE `fields` of each object's row (by primary key) to the object's values: what
    `bulk_update` does, without building a CASE expression per field and row."""
    qn = connection.ops.quote_name
    columns = [model._meta.get_field(f) for f in fields]
    pk = model._meta.pk
    sql = (
        f"UPDATE {qn(model._meta.db_table)} SET "
        f"{', '.join(f'{qn(f.column)} = %s' for f in columns)} WHERE {qn(pk.column)} = %s"
    )
    rows = ([getattr(obj, f.attname) for f in columns] + [obj.pk] for obj in objs)
    _execute(sql, [*columns, pk], rows)
