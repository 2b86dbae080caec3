"""The one small interface through which modules put their figures into the daily report.

A module calls `register` from its AppConfig.ready():

    from bastion.reports.registry import Figure, register

    register(
        module="screening",
        figures=[Figure("households_screened", _("Households cleared")), ...],
        compute=screening_figures,  # (day, grid_ids) -> {grid_id: {key: value}}
    )

`compute(day, grid_ids)` answers, for each grid id, the module's figure values for `day` (as at
the end of that day where the module keeps dates, else as now). It should be one GROUP BY on the
`grid_id` column of the module's rows; grids it leaves out count as 0. The report calls it for
chunks of grids (never one grid at a time) and stores the values at grid level, so every
higher level is a sum by construction.

A second hook colours the building board of the dashboard:

    register_building_status(compute)  # (building_ids) -> {building_id: 0.0 .. 1.0}

and a third the board of control levels (each building coloured by its strictest level):

    register_building_levels(compute, levels=[(key, label), ...])  # strictest first
    # compute: (building_ids) -> {building_id: level key}, buildings without a level left out
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise

FigureCompute = Callable[[date, list[int]], dict[int, dict[str, int]]]
BuildingStatusCompute = Callable[[list[int]], dict[int, float]]
BuildingLevelsCompute = Callable[[list[int]], dict[int, str]]

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Figure:
    key: str
    label: str | Promise


@dataclass(frozen=True)
class Module:
    name: str
    figures: tuple[Figure, ...]
    compute: FigureCompute
    order: int
    label: str | Promise | None = None

    @property
    def title(self) -> str:
        """The module's name in the UI: its own label, else its app's verbose name."""
        if self.label is not None:
            return str(self.label)
        if apps.is_installed(f"bastion.{self.name}"):
            return str(apps.get_app_config(self.name).verbose_name)
        return self.name


@dataclass(frozen=True)
class BuildingStatus:
    compute: BuildingStatusCompute
    label: str | Promise | None


@dataclass(frozen=True)
class BuildingLevels:
    compute: BuildingLevelsCompute
    levels: tuple[tuple[str, str | Promise], ...]  # (key, label), strictest first
    label: str | Promise | None


_modules: dict[str, Module] = {}
_building_status: BuildingStatus | None = None
_building_levels: BuildingLevels | None = None


def register(
    *,
    module: str,
    figures: list[Figure],
    compute: FigureCompute,
    order: int = 100,
    label: str | Promise | None = None,
) -> None:
    """Add (or replace) a module's figures. Figure keys are unique across modules; `order`
    places the module's columns in the report (lower first, then registration order); `label`
    names the group on the dashboard (default: the app's verbose name)."""
    for figure in figures:
        if not KEY_PATTERN.match(figure.key):
            raise ImproperlyConfigured(f"Report figure key {figure.key!r} must be a slug ≤ 40.")
        for other in _modules.values():
            if other.name != module and figure.key in {f.key for f in other.figures}:
                raise ImproperlyConfigured(
                    f"Report figure {figure.key!r} of {module} is already {other.name}'s."
                )
    if len({f.key for f in figures}) != len(figures):
        raise ImproperlyConfigured(f"{module} registers a report figure key twice.")
    _modules[module] = Module(module, tuple(figures), compute, order, label)


def unregister(module: str) -> None:
    _modules.pop(module, None)


def modules() -> list[Module]:
    return sorted(_modules.values(), key=lambda m: m.order)


def figures() -> list[Figure]:
    """Every registered figure, in report column order."""
    return [f for m in modules() for f in m.figures]


def figure_keys() -> list[str]:
    return [f.key for f in figures()]


def register_building_status(
    compute: BuildingStatusCompute, *, label: str | Promise | None = None
) -> None:
    """Set the function that gives each building a completion between 0 and 1 (the screening
    status on the dashboard's building board). The last registration wins."""
    global _building_status
    _building_status = BuildingStatus(compute, label)


def unregister_building_status() -> None:
    global _building_status
    _building_status = None


def building_status() -> BuildingStatus | None:
    return _building_status


def register_building_levels(
    compute: BuildingLevelsCompute,
    *,
    levels: list[tuple[str, str | Promise]],
    label: str | Promise | None = None,
) -> None:
    """Set the function that gives each building its level (a key of `levels`, strictest
    first) for the dashboard's board of control levels. The last registration wins."""
    global _building_levels
    _building_levels = BuildingLevels(compute, tuple(levels), label)


def unregister_building_levels() -> None:
    global _building_levels
    _building_levels = None


def building_levels() -> BuildingLevels | None:
    return _building_levels
