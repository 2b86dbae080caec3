"""Mass testing: rounds over an area, sampling sites with their stations and staff, tubes
(pooled or single), the scans that put residents into tubes, lab results and retests.

The rules that must hold under concurrent writers live in the database:

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

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bastion.core.models import Located

POOL_SIZES = (1, 5, 10, 20)
CUSTODY_HOURS = (1, 48)  # the least and the most hours a custody step may take
MAX_TUBE_CAPACITY = 20
DEFAULT_DEADLINE = dt.timedelta(hours=24)


def _valid(field: str, choices: type[models.TextChoices], *, blank: bool = False) -> Q:
    values = [c.value for c in choices] + ([""] if blank else [])
    return Q(**{f"{field}__in": values})


class Round(Located):
    """A testing round over one node's subtree, for a time window, with a pooling size.
    Who is expected: the residents of the area who are present (away and moved out are
    excluded, by that reason)."""

    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+", verbose_name=_("area"))
    name = models.CharField(_("name"), max_length=100)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    pool_size = models.PositiveSmallIntegerField(
        _("pooling size"), choices=[(n, str(n)) for n in POOL_SIZES], default=10
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True)
    # The deadline by which every expected resident should be sampled (24 h after the start
    # when empty: `due`), and the pooling by control level (`testing.pooling`): sealed areas one
    # tube per person or per household, controlled and precaution areas their own pool sizes,
    # the rest `pool_size`.
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    sealed_tube = models.CharField(
        _("tube in sealed areas"),
        max_length=9,
        choices=[("single", _("Single tube")), ("household", _("One tube per household"))],
        default="single",
    )
    controlled_pool_size = models.PositiveSmallIntegerField(
        _("pooling size in controlled areas"), choices=[(n, str(n)) for n in POOL_SIZES], default=10
    )
    precaution_pool_size = models.PositiveSmallIntegerField(
        _("pooling size in precaution areas"), choices=[(n, str(n)) for n in POOL_SIZES], default=20
    )
    # Hours after which a custody step is late (`queries_custody.overdue`): a closed tube not
    # packed, an open bag not sealed, a sealed bag not received by the lab. A far lab or a
    # night round sets its own.
    pack_within = models.PositiveSmallIntegerField(_("hours to pack a closed tube"), default=1)
    seal_within = models.PositiveSmallIntegerField(_("hours to seal a bag"), default=2)
    receive_within = models.PositiveSmallIntegerField(
        _("hours for the lab to receive a sealed bag"), default=2
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="round_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(deadline__isnull=True) | Q(deadline__gt=F("starts_at")),
                name="round_deadline_after_start",
            ),
            models.CheckConstraint(
                condition=Q(sealed_tube__in=["single", "household"]),
                name="round_sealed_tube_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    controlled_pool_size__in=POOL_SIZES, precaution_pool_size__in=POOL_SIZES
                ),
                name="round_level_pool_sizes_valid",
            ),
            models.CheckConstraint(
                condition=Q(pool_size__in=POOL_SIZES), name="round_pool_size_valid"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="round_has_name"),
            models.CheckConstraint(
                condition=Q(
                    pack_within__range=CUSTODY_HOURS,
                    seal_within__range=CUSTODY_HOURS,
                    receive_within__range=CUSTODY_HOURS,
                ),
                name="round_custody_hours_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_open(self, at) -> bool:
        return self.starts_at <= at <= self.ends_at

    @property
    def due(self):
        """The deadline (24 hours after the start when none was set)."""
        return self.deadline or self.starts_at + DEFAULT_DEADLINE


class Site(Located):
    """A sampling site: where it stands, its hours, the buildings or zones it serves, its
    stations and staff. Its plan (一点一方案) is this row with those around it."""

    node = models.ForeignKey(
        "geo.Node", models.PROTECT, related_name="+", verbose_name=_("located in")
    )
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))
    plan = models.TextField(
        _("plan notes"), blank=True, help_text=_("Route, queue lines, waiting area, waste, shifts.")
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)
    # Where it stands (WGS-84), for the public site finder's "near"; optional (the finder
    # falls back to the tree when a site or a community has none).
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["street", "name"], name="site_unique_name"),
            models.CheckConstraint(condition=~Q(name=""), name="site_has_name"),
            models.CheckConstraint(condition=Q(street__isnull=False), name="site_in_street"),
            models.CheckConstraint(
                condition=Q(lat__isnull=True, lon__isnull=True)
                | Q(lat__gte=-90, lat__lte=90, lon__gte=-180, lon__lte=180),
                name="site_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SiteArea(models.Model):
    """A building, or a whole command zone, that a site serves."""

    site = models.ForeignKey(Site, models.CASCADE, related_name="areas")
    building = models.ForeignKey(
        "geo.Node", models.PROTECT, null=True, blank=True, related_name="+"
    )
    zone = models.ForeignKey(
        "geo.CommandZone", models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(building__isnull=False, zone__isnull=True)
                | Q(building__isnull=True, zone__isnull=False),
                name="site_area_building_or_zone",
            ),
            models.UniqueConstraint(fields=["site", "building"], name="site_area_building_once"),
            models.UniqueConstraint(fields=["site", "zone"], name="site_area_zone_once"),
        ]

    def __str__(self) -> str:
        return f"{self.site_id}:{self.building_id or self.zone_id}"


class StationKind(models.TextChoices):
    FIXED = "fixed", _("Station at a site")
    HOME = "home", _("Home-sampling team")


class Station(Located):
    """A sampling station of a site, or a home-sampling team (no site, located at its grid
    or community). Scans arrive per station; it must have an open shift."""

    site = models.ForeignKey(Site, models.PROTECT, null=True, blank=True, related_name="stations")
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(
        _("kind"), max_length=6, choices=StationKind.choices, default=StationKind.FIXED
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)
    # The queue the crew last counted in front of the station, and when (the site finder's
    # estimate prefers a fresh count to what it infers from the scans).
    queue_length = models.PositiveIntegerField(_("people waiting"), null=True, blank=True)
    queue_reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["site_id", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=_valid("kind", StationKind), name="station_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind=StationKind.HOME) | Q(site__isnull=False),
                name="station_fixed_has_site",
            ),
            models.UniqueConstraint(fields=["site", "name"], name="station_unique_name"),
            models.CheckConstraint(
                condition=Q(queue_length__isnull=True, queue_reported_at__isnull=True)
                | Q(queue_length__isnull=False, queue_reported_at__isnull=False),
                name="station_queue_reported_with_time",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Shift(Located):
    """A station open for a round, from `opened_at` until `closed_at` (open while null).
    A scan is accepted when its time falls in a shift of its station, so scans queued
    offline during a shift still go in after the station has closed."""

    station = models.ForeignKey(Station, models.PROTECT, related_name="shifts")
    round = models.ForeignKey(Round, models.PROTECT, related_name="shifts")
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["station"],
                condition=Q(closed_at__isnull=True),
                name="shift_one_open_per_station",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="shift_closes_after_open",
            ),
        ]


class StaffRole(models.TextChoices):
    SITE_LEADER = "site_leader", _("Site leader")
    STATION_HEAD = "station_head", _("Station head")
    SAMPLER = "sampler", _("Sampler")
    RECORDER = "recorder", _("Recorder")
    GUIDE = "guide", _("Guide")


class SitePost(Located):
    """A person's post at a site (site leader, station head, sampler...) or in a home team.
    A site needs a leader and at least max(2, its stations) station heads; the rest is
    flagged as vacant."""

    site = models.ForeignKey(Site, models.PROTECT, null=True, blank=True, related_name="posts")
    station = models.ForeignKey(
        Station, models.PROTECT, null=True, blank=True, related_name="posts"
    )
    person = models.ForeignKey("people.Person", models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=14, choices=StaffRole.choices)
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=_valid("role", StaffRole), name="site_post_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(site__isnull=False) | Q(station__isnull=False),
                name="site_post_has_place",
            ),
            models.UniqueConstraint(
                fields=["site"],
                condition=Q(role=StaffRole.SITE_LEADER, ended_on__isnull=True),
                name="site_post_one_leader",
            ),
            models.UniqueConstraint(
                fields=["station"],
                condition=Q(
                    role=StaffRole.STATION_HEAD, ended_on__isnull=True, station__isnull=False
                ),
                name="site_post_one_head_per_station",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="site_post_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.person}"


class TubeStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("tube", "Open")
    CLOSED = "closed", pgettext_lazy("tube", "Closed")


class TubeKind(models.TextChoices):
    """What a tube holds: several people's swabs (its capacity says how many), one person's,
    or the members of one household (a sealed area's pooling, `testing.pooling`)."""

    POOL = "pool", _("Pooled tube")
    SINGLE = "single", _("Single tube")
    HOUSEHOLD = "household", _("Household tube")


class Result(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    INVALID = "invalid", _("Invalid")


class ResultImport(Located):
    """One batch of lab results (a file or an API call), all-or-nothing. Located at the
    round's node."""

    round = models.ForeignKey(Round, models.PROTECT, related_name="result_imports")
    filename = models.CharField(_("file"), max_length=200, blank=True)
    tubes = models.PositiveIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=10, default="web")
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-at", "-id"]


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
        ResultImport, models.PROTECT, null=True, blank=True, related_name="+"
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
                condition=_valid("status", TubeStatus), name="tube_status_valid"
            ),
            models.CheckConstraint(condition=_valid("kind", TubeKind), name="tube_kind_valid"),
            models.CheckConstraint(
                condition=_valid("result", Result, blank=True), name="tube_result_valid"
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
                condition=_valid("result", Result, blank=True), name="scan_result_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["round", "grid"], name="scan_round_grid"),
            models.Index(fields=["round", "at"], name="scan_round_at"),
        ]

    def __str__(self) -> str:
        return f"{self.tube_id}:{self.resident_id or self.walk_in_id}"


class Retest(Located):
    """A resident of a positive pool, to be sampled again in a single tube. Located at the
    resident. Done when `tube` is set; its result is the tube's."""

    round = models.ForeignKey(Round, models.PROTECT, related_name="retests")
    resident = models.ForeignKey("geo.Resident", models.PROTECT, related_name="+")
    source_tube = models.ForeignKey(Tube, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    tube = models.ForeignKey(Tube, models.PROTECT, null=True, blank=True, related_name="+")
    sampled_at = models.DateTimeField(null=True, blank=True)
    # Positive-pool response (testing.response): the retest tube's result when the lab
    # answers (an invalid one puts the retest back to due, `tube` cleared, result kept), and
    # the hold: the person stays where they are from the positive result until a negative
    # retest (`hold_until` null: in force).
    result = models.CharField(_("result"), max_length=8, choices=Result.choices, blank=True)
    resulted_at = models.DateTimeField(_("resulted at"), null=True, blank=True)
    hold_since = models.DateTimeField(_("staying in place since"), null=True, blank=True)
    hold_until = models.DateTimeField(_("staying in place until"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "resident"], name="retest_once"),
            models.CheckConstraint(
                condition=Q(tube__isnull=True, sampled_at__isnull=True)
                | Q(tube__isnull=False, sampled_at__isnull=False),
                name="retest_sampled_with_tube",
            ),
            models.CheckConstraint(
                condition=_valid("result", Result, blank=True), name="retest_result_valid"
            ),
            models.CheckConstraint(
                condition=Q(result="", resulted_at__isnull=True)
                | (~Q(result="") & Q(resulted_at__isnull=False)),
                name="retest_resulted_with_time",
            ),
            models.CheckConstraint(
                condition=Q(hold_until__isnull=True)
                | Q(hold_since__isnull=False, hold_until__gte=F("hold_since")),
                name="retest_hold_ends_after_start",
            ),
        ]


# ------------------------------------------------------------------------ chain of custody
# Closed tubes are packed into bags at a site, sealed bags into boxes, boxes handed over
# (site → transport → lab) and received by the lab. Each step is a row or a column here, so a
# tube's trail is read from these tables; the invariants are constraints (see
# `testing.services_custody` for the rules that need a look at other rows).


class BagStatus(models.TextChoices):
    OPEN = "open", _("Being packed")
    SEALED = "sealed", pgettext_lazy("bag", "Sealed")


class BoxStatus(models.TextChoices):
    OPEN = "open", _("Packing")
    IN_TRANSIT = "in_transit", _("In transport")
    RECEIVED = "received", _("Received by the lab")


class Box(Located):
    """A transport box of sealed bags, started at a site; handed over and received whole."""

    round = models.ForeignKey(Round, models.PROTECT, related_name="boxes")
    site = models.ForeignKey(Site, models.PROTECT, related_name="boxes")
    barcode = models.CharField(_("barcode"), max_length=40, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=BoxStatus.choices, default=BoxStatus.OPEN
    )
    bags = models.PositiveIntegerField(_("bags"), default=0)
    tubes = models.PositiveIntegerField(_("tubes"), default=0)
    created_at = models.DateTimeField(_("started at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    dispatched_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=_valid("status", BoxStatus), name="box_status_valid"),
            models.CheckConstraint(
                condition=Q(status=BoxStatus.OPEN, dispatched_at__isnull=True)
                | Q(status=BoxStatus.IN_TRANSIT, dispatched_at__isnull=False)
                | Q(status=BoxStatus.RECEIVED, dispatched_at__isnull=False),
                name="box_dispatched_when_moving",
            ),
            models.CheckConstraint(
                condition=Q(status=BoxStatus.RECEIVED, received_at__isnull=False)
                | (~Q(status=BoxStatus.RECEIVED) & Q(received_at__isnull=True)),
                name="box_received_when_received",
            ),
        ]
        indexes = [models.Index(fields=["round", "status"])]

    def __str__(self) -> str:
        return self.barcode


class Bag(Located):
    """A bag of closed tubes of one round, packed at a site. Sealed only when the packer's
    count equals the tubes packed (`counted = tubes`, a CHECK); then boxed, then received."""

    round = models.ForeignKey(Round, models.PROTECT, related_name="bags")
    site = models.ForeignKey(Site, models.PROTECT, related_name="bags")
    barcode = models.CharField(_("barcode"), max_length=40, unique=True)
    status = models.CharField(
        _("status"), max_length=8, choices=BagStatus.choices, default=BagStatus.OPEN
    )
    tubes = models.PositiveIntegerField(_("tubes"), default=0)
    created_at = models.DateTimeField(_("opened at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    counted = models.PositiveIntegerField(_("packer's count"), null=True, blank=True)
    sealed_at = models.DateTimeField(_("sealed at"), null=True, blank=True)
    sealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    box = models.ForeignKey(Box, models.PROTECT, null=True, blank=True, related_name="bag_set")
    boxed_at = models.DateTimeField(_("boxed at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True)
    seal_client_id = models.UUIDField(null=True, blank=True, unique=True)
    box_client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=_valid("status", BagStatus), name="bag_status_valid"),
            models.CheckConstraint(
                condition=Q(status=BagStatus.OPEN, sealed_at__isnull=True, counted__isnull=True)
                | Q(status=BagStatus.SEALED, sealed_at__isnull=False, counted=F("tubes")),
                name="bag_sealed_on_equal_count",
            ),
            models.CheckConstraint(
                condition=Q(box__isnull=True, boxed_at__isnull=True)
                | Q(box__isnull=False, boxed_at__isnull=False, status=BagStatus.SEALED),
                name="bag_boxed_when_sealed",
            ),
            models.CheckConstraint(
                condition=Q(received_at__isnull=True) | Q(box__isnull=False),
                name="bag_received_in_box",
            ),
        ]
        indexes = [models.Index(fields=["round", "status"])]

    def __str__(self) -> str:
        return self.barcode


class BagTube(models.Model):
    """A tube packed in a bag: a tube is in at most one bag (unique `tube`)."""

    bag = models.ForeignKey(Bag, models.CASCADE, related_name="items")
    tube = models.OneToOneField(Tube, models.PROTECT, related_name="bag_item")
    packed_at = models.DateTimeField(_("packed at"))
    packed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["packed_at", "id"]

    def __str__(self) -> str:
        return f"{self.bag_id}:{self.tube_id}"


class HandoverLeg(models.TextChoices):
    PICKUP = "pickup", _("Site → transport")
    RELAY = "relay", _("Transport → transport")
    DELIVERY = "delivery", _("Transport → lab")


def _someone(side: str) -> Q:
    return Q(**{f"{side}_person__isnull": False}) | ~Q(**{f"{side}_name": ""})


class Handover(Located):
    """A box passing from one person to another, scanned at `at`. Each side is a known
    person or a name with a mobile number (a driver, a lab clerk without a login)."""

    box = models.ForeignKey(Box, models.PROTECT, related_name="handovers")
    leg = models.CharField(_("leg"), max_length=8, choices=HandoverLeg.choices)
    at = models.DateTimeField(_("handed over at"))
    from_person = models.ForeignKey(
        "people.Person", models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_name = models.CharField(_("from"), max_length=50, blank=True)
    from_phone = models.CharField(_("mobile"), max_length=11, blank=True)
    to_person = models.ForeignKey(
        "people.Person", models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_name = models.CharField(_("to"), max_length=50, blank=True)
    to_phone = models.CharField(_("mobile"), max_length=11, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    client_id = models.UUIDField(unique=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=_valid("leg", HandoverLeg), name="handover_leg_valid"),
            models.CheckConstraint(condition=_someone("from"), name="handover_has_giver"),
            models.CheckConstraint(condition=_someone("to"), name="handover_has_taker"),
            models.CheckConstraint(
                condition=Q(from_phone="") | Q(from_phone__regex=r"^1[3-9][0-9]{9}$"),
                name="handover_from_phone_format",
            ),
            models.CheckConstraint(
                condition=Q(to_phone="") | Q(to_phone__regex=r"^1[3-9][0-9]{9}$"),
                name="handover_to_phone_format",
            ),
        ]

    # The mobile given for each side ("from": who handed over, "to": who took over).
    PHONE_FIELDS = {"from": "from_phone", "to": "to_phone"}

    def __str__(self) -> str:
        return f"{self.box_id}:{self.leg}"

    def side_name(self, side: str) -> str:
        person = getattr(self, f"{side}_person")
        return person.name if person is not None else getattr(self, f"{side}_name")


class BoxReceipt(Located):
    """The lab's receipt of a box, closing the chain: what it expected and what it counted.
    A mismatch is recorded (the box is received as it came), never refused."""

    box = models.OneToOneField(Box, models.PROTECT, related_name="receipt")
    at = models.DateTimeField(_("received at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_by = models.CharField(_("received by"), max_length=50)
    bags_expected = models.PositiveIntegerField()
    bags_counted = models.PositiveIntegerField(_("bags counted"))
    tubes_expected = models.PositiveIntegerField()
    tubes_counted = models.PositiveIntegerField(_("tubes counted"))
    missing_bags = models.JSONField(default=list, blank=True)
    extra_bags = models.JSONField(default=list, blank=True)
    mismatch = models.BooleanField(default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))
    client_id = models.UUIDField(unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(mismatch=True)
                | Q(bags_counted=F("bags_expected"), tubes_counted=F("tubes_expected")),
                name="box_receipt_mismatch_recorded",
            ),
            models.CheckConstraint(condition=~Q(received_by=""), name="box_receipt_has_receiver"),
        ]

    def __str__(self) -> str:
        return f"{self.box_id}"


class RetestState(models.TextChoices):
    """Where a retest stands (derived: see `testing.response.with_state`)."""

    PENDING = "pending", _("Retest due")
    SAMPLED = "sampled", _("Sampled")
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    INVALID = "invalid", _("Invalid, due again")
