"""A closed allowance month cannot change, whoever writes: database triggers refuse any
insert, update or delete of a closed month's rates, awards and lines, and any update of a
closed month itself (closing is the last change a month sees). Deleting a month row stays
possible, for the retention purge; its rates, awards and lines then go with it."""

from django.db import migrations

GUARDED = ("people_allowancerate", "people_award", "people_allowanceline")
MESSAGE = "allowance month is closed"


def _sqlite(table: str) -> list[str]:
    closed = "(SELECT status FROM people_allowancemonth WHERE id = {row}.month_id) = 'closed'"
    statements = []
    for event, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
        condition = " OR ".join(closed.format(row=row) for row in rows)
        statements.append(
            f"CREATE TRIGGER {table}_closed_{event.lower()} BEFORE {event} ON {table} "
            f"FOR EACH ROW WHEN {condition} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
    return statements


SQLITE_MONTH = (
    "CREATE TRIGGER people_allowancemonth_closed_update BEFORE UPDATE ON people_allowancemonth "
    f"FOR EACH ROW WHEN OLD.status = 'closed' BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
)

POSTGRES_FUNCTIONS = [
    f"""
    CREATE OR REPLACE FUNCTION people_allowance_closed_guard() RETURNS trigger AS $$
    BEGIN
      IF (TG_OP IN ('UPDATE', 'DELETE') AND EXISTS (
            SELECT 1 FROM people_allowancemonth WHERE id = OLD.month_id AND status = 'closed'))
         OR (TG_OP IN ('INSERT', 'UPDATE') AND EXISTS (
            SELECT 1 FROM people_allowancemonth WHERE id = NEW.month_id AND status = 'closed'))
      THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql
    """,
    f"""
    CREATE OR REPLACE FUNCTION people_allowancemonth_closed_guard() RETURNS trigger AS $$
    BEGIN
      IF OLD.status = 'closed' THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql
    """,
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = [s for table in GUARDED for s in _sqlite(table)] + [SQLITE_MONTH]
    elif vendor == "postgresql":
        statements = list(POSTGRES_FUNCTIONS) + [
            f"CREATE TRIGGER {table}_closed BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION people_allowance_closed_guard()"
            for table in GUARDED
        ] + [
            "CREATE TRIGGER people_allowancemonth_closed BEFORE UPDATE ON people_allowancemonth "
            "FOR EACH ROW EXECUTE FUNCTION people_allowancemonth_closed_guard()"
        ]
    else:  # another database: the services still refuse
        return
    for statement in statements:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        names = [f"{t}_closed_{e}" for t in GUARDED for e in ("insert", "update", "delete")]
        for name in [*names, "people_allowancemonth_closed_update"]:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif vendor == "postgresql":
        for table in GUARDED:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_closed ON {table}")
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS people_allowancemonth_closed ON people_allowancemonth"
        )
        schema_editor.execute("DROP FUNCTION IF EXISTS people_allowance_closed_guard()")
        schema_editor.execute("DROP FUNCTION IF EXISTS people_allowancemonth_closed_guard()")


class Migration(migrations.Migration):
    dependencies = [("people", "0002_mobilization")]
    operations = [migrations.RunPython(create, drop)]
