"""The registry: a module plugs its figures in without touching the report."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from bastion.reports import queries, registry, services
from bastion.reports.models import DailyFigure
from bastion.reports.registry import Figure
from bastion.reports.tests.conftest import DAY
from bastion.reports.tests.helpers import at


def test_the_foundation_registers_through_the_same_interface():
    keys = registry.figure_keys()
    assert keys[:4] == ["households", "residents", "aged", "immobile"]
    assert registry.modules()[0].name == "geo"


def test_a_module_is_titled_by_its_label_or_its_app(plugin):
    with translation.override("en"):
        titles = {m["name"]: m["label"] for m in queries.module_labels()}
    assert titles["test_plugin"] == "test_plugin"
    assert titles["screening"] == "Screening"  # the app's verbose name
    registry.register(
        module=plugin,
        figures=[Figure("grids", "Grids")],
        compute=lambda day, ids: {},
        order=50,
        label="Plug-in",
    )
    assert {m["name"]: m["label"] for m in queries.module_labels()}[plugin] == "Plug-in"


def test_a_registered_module_appears_in_the_report(tree, plugin):
    assert registry.figure_keys().index("grids") > registry.figure_keys().index("immobile")
    services.report_compute(day=DAY, now=at(DAY, 9))
    admin = tree.users["admin"]
    community = queries.day_totals(admin, tree.communities[0], DAY)
    assert community["grids"] == 2
    assert community["weighted"] == 3 * 64 + 2 * DAY.day
    table = queries.report_table(admin, tree.street, DAY, at(DAY, 9))
    assert {"key": "grids", "label": "Grids", "module": "test_plugin"} in table["figures"]
    assert [v["grids"] for _c, v, _f in table["rows"]] == [2, 2]


def test_an_unregistered_module_leaves_todays_report(tree, plugin):
    services.report_compute(day=DAY, now=at(DAY, 9))
    assert DailyFigure.objects.filter(day=DAY, key="grids").count() == 4
    registry.unregister(plugin)
    services.report_compute(day=DAY, now=at(DAY, 10))
    assert not DailyFigure.objects.filter(day=DAY, key="grids").exists()
    assert "grids" not in queries.day_totals(tree.users["admin"], tree.street, DAY)


def test_figure_keys_are_unique_across_modules(plugin):
    with pytest.raises(ImproperlyConfigured):
        registry.register(
            module="another", figures=[Figure("grids", "x")], compute=lambda day, ids: {}
        )
    with pytest.raises(ImproperlyConfigured):
        registry.register(
            module="another", figures=[Figure("Bad Key", "x")], compute=lambda day, ids: {}
        )
    # Registering the same module again replaces it.
    registry.register(
        module=plugin, figures=[Figure("grids", "Grids")], compute=lambda day, ids: {}, order=50
    )
    assert "weighted" not in registry.figure_keys()


def test_a_module_computing_an_unregistered_figure_is_refused(tree):
    registry.register(
        module="sloppy",
        figures=[Figure("one", "One")],
        compute=lambda day, ids: {i: {"two": 2} for i in ids},
    )
    try:
        with pytest.raises(ValueError, match="two"):
            services.report_compute(day=DAY, now=at(DAY, 9))
    finally:
        registry.unregister("sloppy")


def test_the_building_board_takes_the_registered_status(tree):
    saved = registry.building_status()
    registry.unregister_building_status()
    try:
        board = queries.building_board(tree.users["community"], tree.communities[0])
        assert not board["registered"]
        tiles = [b for g in board["grids"] for b in g["buildings"]]
        assert len(tiles) == 4 and all(b["status"] is None for b in tiles)
        first = tree.buildings[0].pk
        registry.register_building_status(lambda ids: {first: 0.25}, label="Cleared")
        board = queries.building_board(tree.users["community"], tree.communities[0])
        assert board["registered"] and board["label"] == "Cleared"
        status = {b["id"]: b["status"] for g in board["grids"] for b in g["buildings"]}
        assert status[first] == 0.25 and status[tree.buildings[1].pk] is None
        assert [g["name"] for g in board["grids"]] == ["网格1-1", "网格1-2"]
        assert queries.building_board(tree.users["admin"], tree.street) is None
    finally:
        if saved:
            registry.register_building_status(saved.compute, label=saved.label)
