"""Batch writes without a model instance's overhead per row, for the high-volume tables
(scans, visits, household statuses) and the demo's tens of thousands of rows.

`bulk_create` builds a model object per row and compiles every value through the ORM, which
costs more than the database itself at thousands of rows per second. Here rows are plain
tuples in a fixed column order, adapted once per column type through the backend's own
adapters (dates, datetimes, decimals, UUIDs), so the same code runs on SQLite and PostgreSQL.
Nothing here checks rules: callers are services that already did, and the database's
constraints still apply to every row. What a column can hold is checked here, as a model save
would (`core.stored.rows_checked`): a too long text, a NUL or an out-of-range integer refuses
the call with its row (position from 1) and field, and nothing of the call is written.
"""

import contextlib
import functools
from collections.abc import Callable, Iterable, Sequence, Sized
from itertools import chain, islice

from django.db import connection, models, transaction

from bastion.core.stored import rows_checked

BATCH = 2000
# Parameters per statement: below SQLite's compiled limit (32,766 since 3.32) and
# PostgreSQL's 65,535.
MAX_PARAMS = 30_000


_ADAPTED = (models.DateTimeField, models.DateField, models.DecimalField, models.UUIDField)


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


@functools.cache
def _adapted_fields(columns: tuple[models.Field, ...]) -> tuple[tuple[int, models.Field], ...]:
    """The positions and fields of `columns` whose values need adapting (asked per batch on
    hot paths, so worked out once per column list)."""
    return tuple((i, f) for i, f in enumerate(columns) if isinstance(f, _ADAPTED))


def _adapted(columns: Sequence[models.Field], rows: Iterable[Sequence]) -> Iterable[list]:
    adapters = [(i, _adapter(f)) for i, f in _adapted_fields(tuple(columns))]
    for row in rows_checked(columns, rows):
        values = list(row)
        for i, adapt in adapters:
            values[i] = adapt(values[i])
        yield values


def _undoable(rows: Iterable, chunk: int) -> contextlib.AbstractContextManager:
    """Rows are checked as they are sent, a chunk at a time: when a bad one can come after a
    chunk already written, the call runs in a transaction of its own (a savepoint inside the
    caller's) so that nothing of it stays. Rows that fit one chunk are all checked before the
    first statement and need none (a batch of scans pays no extra round trips)."""
    if isinstance(rows, Sized) and len(rows) <= chunk:
        return contextlib.nullcontext()
    return transaction.atomic()


def _executemany(sql: str, columns: list[models.Field], rows: Iterable[Sequence]) -> None:
    undoable = _undoable(rows, BATCH)
    rows = iter(_adapted(columns, rows))
    with undoable, connection.cursor() as cursor:
        while chunk := list(islice(rows, BATCH)):
            cursor.executemany(sql, chunk)


def _insert_head(model: type[models.Model], fields: Sequence[str]):
    return _insert_sql(connection.vendor, model, tuple(fields))


@functools.cache
def _insert_sql(vendor: str, model: type[models.Model], fields: tuple[str, ...]):
    qn = connection.ops.quote_name
    columns = tuple(model._meta.get_field(f) for f in fields)  # by name or attname
    head = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in columns)})"
    return columns, head, "(" + ", ".join(["%s"] * len(columns)) + ")"


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> None:
    """INSERT `rows` (tuples of the values of `fields`, foreign keys as ids)."""
    columns, head, one = _insert_head(model, fields)
    _executemany(f"{head} VALUES {one}", columns, rows)


def insert_rows_returning(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence]
) -> list[int]:
    """INSERT `rows` as multi-row statements (one per batch of scans) and return their new
    ids in order."""
    if not rows:
        return []
    columns, head, one = _insert_head(model, fields)
    tail = f" RETURNING {connection.ops.quote_name(model._meta.pk.column)}"
    if connection.vendor == "postgresql" and len(rows) > 1:
        return _insert_unnest(columns, head, tail, rows)
    per_statement = max(1, MAX_PARAMS // len(columns))
    values = iter(_adapted(columns, rows))
    ids: list[int] = []
    with _undoable(rows, per_statement), connection.cursor() as cursor:
        while chunk := list(islice(values, per_statement)):
            params = [v for row in chunk for v in row]
            cursor.execute(f"{head} VALUES " + ", ".join([one] * len(chunk)) + tail, params)
            ids.extend(r[0] for r in cursor.fetchall())
    return ids


def _insert_unnest(columns: tuple, head: str, tail: str, rows: Sequence[Sequence]) -> list[int]:
    """PostgreSQL: the rows as one array per column, unnested. The statement's text is the
    same for any number of rows, so it is parsed and planned once per connection, and there
    is no placeholder per value for the driver to rewrite (a batch of 50 scans had 1,100)."""
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in columns)
    sql = f"{head} SELECT * FROM unnest({arrays}){tail}"
    values = iter(_adapted(columns, rows))
    ids: list[int] = []
    with _undoable(rows, BATCH), connection.cursor() as cursor:
        while chunk := list(islice(values, BATCH)):
            cursor.execute(sql, [list(column) for column in zip(*chunk, strict=True)])
            ids.extend(r[0] for r in cursor.fetchall())
    return ids


def upsert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
    batch: int = 500,
) -> None:
    """INSERT `rows`, and where one collides on `conflict` (a unique constraint's fields)
    UPDATE its `update` fields instead: INSERT ... ON CONFLICT DO UPDATE, which SQLite
    (≥ 3.24) and PostgreSQL spell alike. Up to `batch` rows per statement (and never more
    parameters than MAX_PARAMS)."""
    qn = connection.ops.quote_name
    columns, head, one = _insert_head(model, fields)
    target = ", ".join(qn(model._meta.get_field(f).column) for f in conflict)
    sets = ", ".join(
        f"{qn(c)} = excluded.{qn(c)}" for c in (model._meta.get_field(f).column for f in update)
    )
    tail = f" ON CONFLICT ({target}) DO UPDATE SET {sets}"
    per_statement = max(1, min(batch, MAX_PARAMS // len(columns)))
    values = iter(_adapted(columns, rows))
    with _undoable(rows, per_statement), connection.cursor() as cursor:
        while chunk := list(islice(values, per_statement)):
            params = [v for row in chunk for v in row]
            cursor.execute(f"{head} VALUES " + ", ".join([one] * len(chunk)) + tail, params)


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
    _executemany(sql, [*columns, pk], rows)


COPY_CHUNK = 2500


def copy_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple], progress=None
) -> None:
    """Bulk-load `rows` (tuples of the values of `fields`) as fast as the database takes them:
    COPY on PostgreSQL, an `executemany` of a plain INSERT on SQLite; `progress.advance(n)`
    after each chunk when given. For the demo's and the bench's hundreds of thousands of rows.
    Values must already be in the backend's form (`connection.ops.adapt_*`). Columns not given
    get the field's default, as `bulk_create` would give them, so a field added later with a
    default needs no change in the callers."""
    qn = connection.ops.quote_name
    meta = model._meta
    given = [meta.get_field(f) for f in fields]
    constant, per_row = _defaults(model, {f.name for f in given})
    columns = [*given, *constant, *per_row]
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    tail = tuple(constant.values())

    def prepare(row: tuple) -> tuple:
        return (*row, *tail, *(make() for make in per_row.values()))

    def chunks() -> Iterable[list]:
        rest = rows_checked(given, rows)
        while chunk := list(islice(rest, COPY_CHUNK)):
            yield chunk
            if progress is not None:
                progress.advance(len(chunk))

    with _undoable(rows, COPY_CHUNK), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # psycopg's executemany is a round trip per row; COPY streams them.
            names = ", ".join(qn(f.column) for f in columns)
            batches = chunks()
            # The first chunk is checked before COPY begins: a refusal inside a COPY aborts
            # the transaction, which only a savepoint (taken for longer streams) undoes.
            first = next(batches, None)
            if first is None:
                return
            with cursor.copy(f"COPY {qn(meta.db_table)} ({names}) FROM STDIN") as copy:
                for chunk in chain([first], batches):
                    for row in chunk:
                        copy.write_row(prepare(row))
            return
        for chunk in chunks():
            cursor.executemany(sql, [prepare(row) for row in chunk])


class Unfilled(ValueError):
    """A NOT NULL column without a default that a bulk load leaves out."""


def _defaults(model: type[models.Model], given: set[str]) -> tuple[dict, dict]:
    """The values of the columns an INSERT leaves out: fixed defaults once, callable ones
    (a uuid4, a now) per row. Nullable fields without a default stay NULL."""
    constant, per_row = {}, {}
    for f in model._meta.concrete_fields:
        if f.name in given or f.primary_key:
            continue
        if f.has_default():
            if callable(f.default):
                per_row[f] = lambda f=f: f.get_db_prep_save(f.get_default(), connection)
            else:
                constant[f] = f.get_db_prep_save(f.get_default(), connection)
        elif not f.null and not f.has_db_default():
            raise Unfilled(f"{model.__name__}.{f.name}")
    return constant, per_row
