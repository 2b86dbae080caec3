"""The foundation's own figures (households, residents, aged 60+, immobile), registered
through the same interface as every other module's."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from bastion.geo.queries import counts_by
from bastion.reports.registry import Figure, register

FOUNDATION_FIGURES = [
    Figure("households", _("Households")),
    Figure("residents", _("Residents")),
    Figure("aged", _("Aged 60+")),
    Figure("immobile", _("Immobile")),
]


def foundation_compute(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    """Counts as they stand (the register keeps no history): one GROUP BY grid_id per table."""
    keys = [f.key for f in FOUNDATION_FIGURES]
    return {gid: {k: row[k] for k in keys} for gid, row in counts_by("grid", grid_ids).items()}


def register_foundation() -> None:
    register(
        module="geo",
        figures=FOUNDATION_FIGURES,
        compute=foundation_compute,
        order=0,
        label=_("Households and residents"),
    )
