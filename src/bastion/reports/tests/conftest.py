import datetime as dt

import pytest
from django.db.models import Count

from bastion.geo.models import Node, Resident
from bastion.reports import registry
from bastion.reports.registry import Figure

DAY = dt.date(2026, 11, 20)


def grid_fingerprint(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    """A plug-in module's figures: 1 per grid (so a parent's value counts its grids) and the
    residents of each grid times three plus the day of the month (so values differ by grid
    and by day). One GROUP BY on grid_id, as the registry asks."""
    counts = dict(
        Resident.objects.filter(grid_id__in=grid_ids)
        .values("grid_id")
        .annotate(n=Count("id"))
        .values_list("grid_id", "n")
    )
    return {gid: {"grids": 1, "weighted": 3 * counts.get(gid, 0) + day.day} for gid in grid_ids}


@pytest.fixture
def plugin():
    """A test module registered through the public interface, removed afterwards."""
    registry.register(
        module="test_plugin",
        figures=[Figure("grids", "Grids"), Figure("weighted", "Weighted residents")],
        compute=grid_fingerprint,
        order=50,
    )
    yield "test_plugin"
    registry.unregister("test_plugin")


def report_nodes(root: Node) -> list[Node]:
    return list(
        root.subtree().filter(level__in=["city", "district", "street", "community", "grid"])
    )
