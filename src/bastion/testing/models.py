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

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from bastion.geo.models import Located

POOL_SIZES = (1, 5, 10, 20)
MAX_TUBE_CAPACITY = 20


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

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="round_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(pool_size__in=POOL_SIZES), name="round_pool_size_valid"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="round_has_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def is_open(self, at) -> bool:
        return self.starts_at <= at <= self.ends_at


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

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["street", "name"], name="site_unique_name"),
            models.CheckConstraint(condition=~Q(name=""), name="site_has_name"),
            models.CheckConstraint(condition=Q(street__isnull=False), name="site_in_street"),
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
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class TubeKind(models.TextChoices):
    """What a tube holds. Later kinds (one tube per household, by control level) add here."""

    POOL = "pool", _("Pooled tube")
    SINGLE = "single", _("Single tube")


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
        _("kind"), max_length=8, choices=TubeKind.choices, default=TubeKind.POOL
    )
    capacity = models.PositiveSmallIntegerField(_("capacity"))
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
                condition=Q(kind=TubeKind.POOL) | Q(capacity=1), name="tube_single_holds_one"
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
    """An ancestor column copied from the resident's row: no FK constraint and no index of
    its own (the resident row has both), so inserts into the big table stay cheap."""
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
    round = models.ForeignKey(
        Round, models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    tube = models.ForeignKey(Tube, models.PROTECT, related_name="scans", db_constraint=False)
    station = models.ForeignKey(
        Station, models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    kind = models.CharField(_("kind"), max_length=8, choices=ScanKind.choices)
    resident = models.ForeignKey(
        "geo.Resident",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    walk_in = models.ForeignKey(
        WalkIn,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="scans",
        db_index=False,
        db_constraint=False,
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

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "resident"], name="retest_once"),
            models.CheckConstraint(
                condition=Q(tube__isnull=True, sampled_at__isnull=True)
                | Q(tube__isnull=False, sampled_at__isnull=False),
                name="retest_sampled_with_tube",
            ),
        ]
