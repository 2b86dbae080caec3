"""The daily report: one row per (day, grid, figure), the grids' submissions, the days' freeze.

Figures are stored only at grid level. A node's figure for a day is one
`SUM(value) ... WHERE <level>_id = node AND day = d`, its children's figures the same query
grouped by the child level's column, so a parent equals the sum of its children by
construction and no query walks the tree.

Indexes (the 1-million-resident district has ~1,250 grids × ~11 figures ≈ 14k rows a day,
~200k rows over a 14-day trend; a 10-million city ~3M):

* `(<level>_id, day, key, value)` for city, district, street, community: the day's totals and
  the 14-day trend of a node are index-only range scans (the value is in the index);
* the unique `(grid_id, day, key)`: the upsert's conflict target and a grid's own figures;
* children compared reads the day's rows of the node through the same index and groups them by
  the child column (one table lookup per row of that one day).

The per-column foreign-key indexes of `Located` are dropped here: the composite ones above
start with the same columns, and each extra index costs on every upsert.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bastion.core.models import Located

ROLLUP_LEVELS = ("city", "district", "street", "community")


def _ancestor(on_delete=models.PROTECT) -> models.ForeignKey:
    return models.ForeignKey("geo.Node", on_delete, related_name="+", null=True, db_index=False)


class GridLocated(Located):
    """Located at a grid, with the composite indexes of the subclass instead of one index
    per ancestor column."""

    city = _ancestor()
    district = _ancestor()
    street = _ancestor()
    community = _ancestor()
    grid = _ancestor()
    # Always empty on grid rows; DO_NOTHING spares deleting a building a scan of these tables.
    building = _ancestor(models.DO_NOTHING)
    unit = _ancestor(models.DO_NOTHING)

    class Meta:
        abstract = True


class DailyFigure(GridLocated):
    """One figure of one grid on one day."""

    day = models.DateField(_("day"))
    key = models.CharField(_("figure"), max_length=40)
    value = models.BigIntegerField(_("value"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grid", "day", "key"], name="dailyfigure_unique"),
            models.CheckConstraint(
                condition=Q(grid__isnull=False, building__isnull=True, unit__isnull=True),
                name="dailyfigure_on_grid",
            ),
        ]
        indexes = [
            models.Index(fields=[level, "day", "key", "value"], name=f"dailyfigure_{level}")
            for level in ROLLUP_LEVELS
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.grid_id} {self.key}={self.value}"


class ReportDay(models.Model):
    """The state of one day's report: when it was last computed and when it froze. Computing
    and freezing lock this row, so a compute never writes into a frozen day."""

    day = models.DateField(_("day"), unique=True)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    frozen_at = models.DateTimeField(_("frozen at"), null=True, blank=True)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return str(self.day)

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None


class GridReport(GridLocated):
    """A grid's report of one day: made when its figures are first computed, submitted when
    the grid chief confirms them. Submitted after the freeze moment → late; never submitted by
    then → missing."""

    day = models.DateField(_("day"))
    computed_at = models.DateTimeField(_("computed at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    late = models.BooleanField(_("late"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grid", "day"], name="gridreport_unique"),
            models.CheckConstraint(
                condition=Q(grid__isnull=False, building__isnull=True),
                name="gridreport_on_grid",
            ),
            models.CheckConstraint(
                condition=Q(late=False) | Q(submitted_at__isnull=False),
                name="gridreport_late_only_if_submitted",
            ),
        ]
        indexes = [
            models.Index(fields=[level, "day"], name=f"gridreport_{level}")
            for level in ROLLUP_LEVELS
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.grid_id}"
