"""Rows that skip model saves are held to what their columns can store (issue 15 item 9, the
bulk paths): `core.bulk`'s plain rows and `bulk_create` / `bulk_update` of our models refuse a
1 MB text, a NUL or an out-of-range integer with the row and field named, and write nothing of
the batch — alike on SQLite (which would store it) and PostgreSQL (which would fail)."""

import pytest
from django.db import connection, transaction
from django.utils import timezone

from bastion.core import bulk
from bastion.core.errors import DomainError
from bastion.core.models import ChangeLog

FIELDS = ("action", "object_type", "object_id", "object_repr", "changes", "source", "at")
NOW = timezone.now()
MEGABYTE = "名" * (1024 * 1024)


def row(repr_: str = "ok", object_id: int = 1) -> tuple:
    return ("update", "geo.resident", object_id, repr_, "{}", "import", NOW)


BAD = [
    pytest.param(row(MEGABYTE), "object_repr", id="1MB text"),
    pytest.param(row("a\x00b"), "object_repr", id="NUL"),
    pytest.param(row(object_id=2**63), "object_id", id="integer past bigint"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("bad,field", BAD)
@pytest.mark.parametrize("write", ["insert_rows", "insert_rows_returning", "upsert_rows", "copy"])
def test_core_bulk_refuses_what_a_column_cannot_hold(bad, field, write):
    rows = [row(), row(), bad, row()]
    with pytest.raises(DomainError) as caught:
        if write == "insert_rows":
            bulk.insert_rows(ChangeLog, FIELDS, rows)
        elif write == "insert_rows_returning":
            bulk.insert_rows_returning(ChangeLog, FIELDS, rows)
        elif write == "upsert_rows":
            bulk.upsert_rows(
                ChangeLog,
                ("id", *FIELDS),
                [(i + 1, *r) for i, r in enumerate(rows)],
                conflict=("id",),
                update=("object_repr",),
            )
        else:
            at = connection.ops.adapt_datetimefield_value(NOW)  # copy takes backend values
            bulk.copy_rows(ChangeLog, FIELDS, [(*r[:-1], at) for r in rows])
    (problem,) = caught.value.as_list()
    assert (problem["row"], problem["field"]) == (3, field)
    assert ChangeLog.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("bad,field", BAD)
def test_bulk_create_and_bulk_update_refuse_it_too(bad, field):
    def entry(values):
        action, object_type, object_id, object_repr, _changes, source, _at = values
        return ChangeLog(
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_repr=object_repr,
            changes={},
            source=source,
        )

    with pytest.raises(DomainError) as caught:
        ChangeLog.objects.bulk_create([entry(row()), entry(bad)])
    (problem,) = caught.value.as_list()
    assert (problem["row"], problem["field"]) == (2, field)
    assert ChangeLog.objects.count() == 0
    kept = ChangeLog.objects.bulk_create([entry(row()), entry(row())])
    setattr(kept[1], field, getattr(entry(bad), field))
    with transaction.atomic(), pytest.raises(DomainError):
        ChangeLog.objects.bulk_update(kept, [field])
    assert list(ChangeLog.objects.values_list(field, flat=True)) == [getattr(kept[0], field)] * 2
