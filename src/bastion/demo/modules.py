"""The modules' own demo data, written after the street: each module owns a `build_demo`
(street, rng, clock) and the demo command calls them here in dependency order."""

import datetime as dt
import importlib
import random
from collections.abc import Callable

from django.utils import timezone

from bastion.geo.models import Node

# (module, whether its build_demo takes the local date rather than the moment). Testing comes
# before mobilization, which binds temporary branches to sampling sites; the running round's
# custody after the pooling demo has repacked its tubes; reports come last,
# per street, because they freeze days over what the others wrote.
MODULE_DEMOS: tuple[tuple[str, bool], ...] = (
    ("bastion.screening.demo", True),
    ("bastion.testing.demo.rounds", False),
    ("bastion.testing.demo.pooling", False),
    ("bastion.testing.demo.custody", False),
    ("bastion.requests.demo", False),
    ("bastion.people.mobilization.demo", True),
    ("bastion.orders.demo", False),
    ("bastion.supervision.demo", False),
    ("bastion.checkpoints.demo", False),
    ("bastion.quarantine.demo", False),
    ("bastion.incidents.response.demo", False),
    ("bastion.incidents.transfers.demo", False),
    ("bastion.quarantine.home.demo", False),
    ("bastion.reports.demo", True),
)


def _builder(module: str) -> tuple[str, Callable]:
    """The builder and the name its random numbers are seeded with: a module that moved keeps
    its old path as `DEMO_SEED`, so the demo writes the same data."""
    found = importlib.import_module(module)
    return getattr(found, "DEMO_SEED", module), found.build_demo


def modules_build(
    streets: list[Node], *, seed: int, now: dt.datetime | None = None, progress=None
) -> dict[str, dict]:
    """Run every module's demo over every street; returns the counts per module."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts: dict[str, dict] = {}
    for path, takes_date in MODULE_DEMOS:
        module, build = _builder(path)
        name = module.split(".")[1] if "demo_" not in module else module.rsplit("_", 1)[1]
        if progress is not None:
            progress.phase(name, len(streets))
        for index, street in enumerate(streets):
            rng = random.Random(f"{seed}:{module}:{index}")
            result = build(street, rng, today if takes_date else now)
            for key, value in result.items():
                if isinstance(value, int):
                    counts.setdefault(name, {}).setdefault(key, 0)
                    counts[name][key] += value
            if progress is not None:
                progress.advance()
    return counts
