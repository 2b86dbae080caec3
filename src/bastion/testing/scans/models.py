"""Tubes (pooled or single), walk-ins and the scans that put residents into tubes.

The rules of mass testing that must hold under concurrent writers live in the database:

* a resident is sampled at most once per round: a partial unique index on
  (round, resident) over the scans that count (not voided, not a retest), and the same for
  walk-ins and for retests;
* a scan is stored once per client-made id (unique `client_id`), so device retries replay;
* a tube never holds more than its capacity: `filled <= capacity` is a CHECK, and the scan
  service raises `filled` with a conditional UPDATE on the tube row it holds locked
  (SELECT ... FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions serialise writers);
* one open shift per station; one current leader per site and one head per station.

`Scan` is the high-volume table. It is `Located` (the resident's ancestor columns, or the
station's for a walk-in), carries its round, and is indexed for coverage (round, grid), for
throughput (round, at) and for traceback (tube). Nothing points at a scan by foreign key and
its ancestor columns carry no FK constraint or single-column index of their own (they are
copies of the resident's, which has both), so the table can later be partitioned by day on
`recorded_at` with the guards kept per round (see `Scan`). For the same reason its foreign
keys carry no database constraint: every id it stores was just read (the tube under its row
lock) by the one service that writes scans, and PROTECT still guards deletions in the ORM.
On PostgreSQL each FK constraint costs a trigger and a row lock on the referenced row per
inserted scan, which would halve the batch rate and make every scan lock its resident.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bastion.core.models import Located
from bastion.testing.rounds.models import MAX_TUBE_CAPACITY, Round, Station, valid_choice


class TubeStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("tube", "Open")
    CLOSED = "closed", pgettext_lazy("tube", "Closed")


class TubeKind(models.TextChoices):
    """What a tube holds: several people's swabs (its capacity says how many), one person's,
    or the members of one household (a sealed area's pooling, `testing.rounds.pooling`)."""

    POOL = "pool", _("Pooled tube")
    SINGLE = "single", _("Single tube")
    HOUSEHOLD = "household", _("Household tube")


class Result(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    INVALID = "invalid", _("Invalid")


class Tube(Located):
    """A sampling tube, opened at a station by its barcode for one round. Located at its
    station. It closes itself when `filled` reaches `capacity`."""

    round = models.ForeignKey(Round, models.PROTECT, related_name="tubes")
    station = models.ForeignKey(Station, models.PROTECT, related_name="tubes")
    barcode = models.CharField(_("barcode"), max_length=40, unique=True)
    kind = models.CharField(
        _("kind"), max_length=9, choices=TubeKind.choices, default=TubeKind.POOL
    )
    capacity = models.PositiveSmallIntegerField(_("capacity"))
    # A household tube's household (set by its first member's scan).
    household = models.ForeignKey(
        "geo.Household",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    filled = models.PositiveSmallIntegerField(_("filled"), default=0)
    status = models.CharField(
        _("status"), max_length=8, choices=TubeStatus.choices, default=TubeStatus.OPEN
    )
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    result = models.CharField(_("result"), max_length=8, choices=Result.choices, blank=True)
    resulted_at = models.DateTimeField(_("resulted at"), null=True, blank=True)
    result_import = models.ForeignKey(
        "testing.ResultImport", models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=1, capacity__lte=MAX_TUBE_CAPACITY),
                name="tube_capacity_range",
            ),
            models.CheckConstraint(
                condition=Q(filled__lte=F("capacity")), name="tube_never_overfilled"
            ),
            models.CheckConstraint(
                condition=valid_choice("status", TubeStatus), name="tube_status_valid"
            ),
            models.CheckConstraint(
                condition=valid_choice("kind", TubeKind), name="tube_kind_valid"
            ),
            models.CheckConstraint(
                condition=valid_choice("result", Result, blank=True), name="tube_result_valid"
            ),
            models.CheckConstraint(
                condition=~Q(kind=TubeKind.SINGLE) | Q(capacity=1), name="tube_single_holds_one"
            ),
            models.CheckConstraint(
                condition=Q(kind=TubeKind.HOUSEHOLD) | Q(household__isnull=True),
                name="tube_household_only_in_household_tube",
            ),
            models.CheckConstraint(
                condition=Q(
                    status=TubeStatus.OPEN, closed_at__isnull=True, filled__lt=F("capacity")
                )
                | Q(status=TubeStatus.CLOSED, closed_at__isnull=False),
                name="tube_closed_when_full",
            ),
            models.CheckConstraint(
                condition=Q(result="", resulted_at__isnull=True)
                | (~Q(result="") & Q(resulted_at__isnull=False, status=TubeStatus.CLOSED)),
                name="tube_result_when_closed",
            ),
        ]
        indexes = [
            models.Index(fields=["round", "result"]),
            models.Index(fields=["station", "status"]),
        ]

    def __str__(self) -> str:
        return self.barcode


class WalkIn(Located):
    """Someone sampled in a round who is not one of its residents (a driver, a visitor, a
    resident of another area): kept apart, by ID number. Located at the station."""

    round = models.ForeignKey(Round, models.PROTECT, related_name="walk_ins")
    id_number = models.CharField(_("ID number"), max_length=18)
    name = models.CharField(_("name"), max_length=50, blank=True)
    phone = models.CharField(_("mobile"), max_length=11, blank=True)
    resident = models.ForeignKey(
        "geo.Resident",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Set when they live elsewhere in the tree."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "id_number"], name="walk_in_once"),
        ]

    def __str__(self) -> str:
        return self.name or self.id_number


class ScanKind(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    WALK_IN = "walk_in", _("Walk-in")


def _copy(level: str) -> models.ForeignKey:
    """An ancestor column copied from the resident's (or the station's) row, which holds the
    constraint and the index. None here: the scans of an area are read through their round,
    and a constraint without an index makes every deleted node scan the whole scan table
    (measured: the demo's wipe on PostgreSQL went from seconds to 205 s)."""
    return models.ForeignKey(
        "geo.Node",
        models.DO_NOTHING,
        related_name="+",
        null=True,
        db_constraint=False,
        db_index=False,
    )


class Scan(Located):
    """One person's swab put into one tube. Immutable but for its result (copied from the
    tube when the lab answers) and `voided_at` (an invalid tube puts its people back to
    not-sampled).

    Partitioning by day later: the table is append-mostly with `recorded_at` as the key;
    the guards below are per round, so on a partitioned table they move to a narrow
    unpartitioned claims table (round, person) → scan written in the same transaction."""

    city = _copy("city")
    district = _copy("district")
    street = _copy("street")
    community = _copy("community")
    grid = _copy("grid")
    building = _copy("building")
    unit = _copy("unit")

    client_id = models.UUIDField(unique=True)
    round = models.ForeignKey(Round, models.PROTECT, related_name="+", db_index=False)
    tube = models.ForeignKey(Tube, models.PROTECT, related_name="scans")
    station = models.ForeignKey(Station, models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(_("kind"), max_length=8, choices=ScanKind.choices)
    # Indexed (a resident's tests over the rounds; and deleting a resident checks here).
    resident = models.ForeignKey(
        "geo.Resident", models.PROTECT, null=True, blank=True, related_name="+"
    )
    walk_in = models.ForeignKey(
        WalkIn,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="scans",
        db_index=False,
    )
    retest = models.BooleanField(_("retest"), default=False)
    at = models.DateTimeField(_("scanned at"))
    recorded_at = models.DateTimeField(_("recorded at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    result = models.CharField(_("result"), max_length=8, choices=Result.choices, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    # Typed in or picked by name at the station because the code would not scan.
    manual = models.BooleanField(_("entered by hand"), default=False, db_default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "resident"],
                condition=Q(resident__isnull=False, voided_at__isnull=True, retest=False),
                name="scan_resident_once_per_round",
            ),
            models.UniqueConstraint(
                fields=["round", "resident"],
                condition=Q(resident__isnull=False, voided_at__isnull=True, retest=True),
                name="scan_retest_once_per_round",
            ),
            models.UniqueConstraint(
                fields=["round", "walk_in"],
                condition=Q(walk_in__isnull=False, voided_at__isnull=True, retest=False),
                name="scan_walk_in_once_per_round",
            ),
            models.CheckConstraint(
                condition=Q(kind=ScanKind.RESIDENT, resident__isnull=False, walk_in__isnull=True)
                | Q(kind=ScanKind.WALK_IN, walk_in__isnull=False),
                name="scan_kind_matches_person",
            ),
            models.CheckConstraint(
                condition=valid_choice("result", Result, blank=True), name="scan_result_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["round", "grid"], name="scan_round_grid"),
            models.Index(fields=["round", "at"], name="scan_round_at"),
        ]

    def __str__(self) -> str:
        return f"{self.tube_id}:{self.resident_id or self.walk_in_id}"
