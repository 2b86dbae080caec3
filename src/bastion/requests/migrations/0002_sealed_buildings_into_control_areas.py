# The separate sealed-building flag of requests goes: each building flagged becomes a sealed
# control area of `incidents` (unless the building already has an active area), which is what
# errands now read.

from django.db import migrations

LEVELS = ("city", "district", "street", "community", "grid", "building", "unit")


def into_control_areas(apps, schema_editor):
    SealedBuilding = apps.get_model("requests", "SealedBuilding")
    ControlArea = apps.get_model("incidents", "ControlArea")
    active = set(
        ControlArea.objects.filter(lifted_at__isnull=True).values_list("node_id", flat=True)
    )
    rows = []
    for flag in SealedBuilding.objects.order_by("pk"):
        if flag.building_id in active:
            continue
        rows.append(
            ControlArea(
                node_id=flag.building_id,
                level="sealed",
                since=flag.since,
                reason=(flag.note or "封控（跑腿送到单元门口）")[:200],
                set_by_id=flag.set_by_id,
                **{f"{lvl}_id": getattr(flag, f"{lvl}_id") for lvl in LEVELS},
            )
        )
    ControlArea.objects.bulk_create(rows)


class Migration(migrations.Migration):

    dependencies = [
        ("requests", "0001_initial"),
        ("incidents", "0002_control_area_reverted"),
    ]

    operations = [
        migrations.RunPython(into_control_areas, migrations.RunPython.noop),
        migrations.DeleteModel(
            name="SealedBuilding",
        ),
    ]
