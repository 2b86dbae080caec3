"""Plain SQL for the few reads on hot paths (a scan, a token login), where the ORM spent more
time compiling a statement than the database spent running it.

Rows still come back as model instances when asked: every concrete column is read and converted
as the ORM would, so fields added to these models later are read too. On PostgreSQL the
statements are bound by the server and prepared by psycopg after a few runs on a connection
(see settings), so the same text costs one parse and plan per connection, not one per request.
"""

import functools
from collections.abc import Iterable, Sequence

from django.db import DEFAULT_DB_ALIAS, connection, connections, models


@functools.cache
def table(model: type[models.Model]) -> str:
    """The model's table name, quoted for the database (one per process: settings)."""
    return connection.ops.quote_name(model._meta.db_table)


def _marks(values: Sequence) -> str:
    """`%s, %s, ...`: one placeholder per value, for an `IN (...)`."""
    return ", ".join(["%s"] * len(values))


def any_of(column: str, values: Iterable) -> tuple[str, list]:
    """`column` equal to one of `values`, as SQL and its parameters. On PostgreSQL it is one
    array parameter, so the statement's text (and its prepared plan) is the same for any
    number of values and nothing long is parsed per call; elsewhere a placeholder per value."""
    values = list(values)
    if len(values) == 1:
        return f"{column} = %s", values
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({_marks(values)})", values


def rows(sql: str, params: Sequence) -> list[tuple]:
    """The rows of a plain statement, as tuples."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@functools.cache
def _select_list(db, model: type[models.Model], alias: str) -> tuple[str, list[str], list]:
    """The SELECT list of `model`'s concrete columns under `alias`, their attribute names, and
    the (converters, column) that turn each value into its Python value on `db`."""
    fields = model._meta.concrete_fields
    qn = db.ops.quote_name
    select = ", ".join(f"{alias}.{qn(f.column)}" for f in fields)
    converters = []
    for f in fields:
        col = f.get_col(alias)
        converters.append((db.ops.get_db_converters(col) + col.get_db_converters(db), col))
    return select, [f.attname for f in fields], converters


def instances(sql: str, params: Sequence, *parts: tuple[type[models.Model], str]) -> list[list]:
    """Run `sql` (its `{columns}` filled with the columns of each (model, alias) of `parts`)
    and return one list of model instances per row, followed by the row's values selected
    after `{columns}`, as they are."""
    db = connections[DEFAULT_DB_ALIAS]
    specs = [_select_list(db, model, alias) for model, alias in parts]
    with db.cursor() as cursor:
        cursor.execute(sql.replace("{columns}", ", ".join(spec[0] for spec in specs)), params)
        fetched = cursor.fetchall()
    loaded = []
    for row in fetched:
        start, objs = 0, []
        for (model, _alias), (_select, names, converters) in zip(parts, specs, strict=True):
            values = list(row[start : start + len(names)])
            start += len(names)
            for i, (funcs, col) in enumerate(converters):
                for convert in funcs:
                    values[i] = convert(values[i], col, db)
            objs.append(model.from_db(db.alias, names, values))
        loaded.append([*objs, *row[start:]])
    return loaded
