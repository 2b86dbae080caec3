"""The supervision demo on the small known tree (with chiefs and a commander): a team, the
checklists, a week of inspections whose findings are in every state, and a repeat."""

import datetime as dt
import random

from django.utils import timezone

from bastion.people import services as people
from bastion.supervision import queries
from bastion.supervision.demo import build_demo
from bastion.supervision.models import ChecklistItem, Finding, Inspection, SupervisionTeam

from .conftest import _person


def test_demo_week_of_inspections(tree, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    admin = tree.users["admin"]
    for i, b in enumerate(tree.buildings):
        chief = _person(f"楼长{i}", f"139000001{i:02d}")
        people.post_assign(person=chief, role="building_chief", node=b, actor=admin)
    for i in range(3):
        _person(f"督查员{i}", f"139000002{i:02d}")
    people.post_assign(
        person=_person("网格长", "13900000300", tree.users["grid"]),
        role="grid_chief", node=tree.grids[0], actor=admin,
    )  # fmt: skip
    now = timezone.now()
    counts = build_demo(tree.street, random.Random(3), now)
    assert SupervisionTeam.objects.get().members.count() == 3
    assert ChecklistItem.objects.filter(kind="building").count() == 5
    assert Inspection.objects.count() == counts["inspections"] == 23
    statuses = set(Finding.objects.values_list("status", flat=True))
    assert statuses == {"open", "fixed", "closed"}, counts
    assert Finding.objects.filter(reopened__gt=0).exists()
    assert queries.overdue(tree.users["street"], now=now)
    assert Finding.objects.filter(repeat_of__isnull=False).exists()
    assert counts["findings"] == Finding.objects.count()
    assert min(Inspection.objects.values_list("inspected_at", flat=True)) < now - dt.timedelta(
        days=6
    )
