"""Rounds over an area, and the sampling sites, stations, shifts and staff that serve them."""

import datetime as dt
import functools
import re

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from bastion.core.models import Located
from bastion.people.models import post_phone

POOL_SIZES = (1, 5, 10, 20)


CUSTODY_HOURS = (1, 48)  # the least and the most hours a custody step may take


MAX_TUBE_CAPACITY = 20


DEFAULT_DEADLINE = dt.timedelta(hours=24)


# The tube barcodes a round takes unless it names its lab's labels: letters, digits and dashes
# with at least one digit (every label carries a serial number), so a word scanned or typed by
# mistake ("NOSUCHCODE") is refused instead of opening a tube.
DEFAULT_TUBE_PATTERN = r"[A-Z0-9-]*[0-9][A-Z0-9-]*"


@functools.lru_cache(maxsize=256)
def tube_code_re(pattern: str) -> re.Pattern | None:
    """A round's tube pattern compiled (None when it does not compile); letters in any case
    (barcodes are stored in uppercase)."""
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return None


def tube_code_fits(pattern: str, barcode: str) -> bool:
    """Whether a (normalised) barcode is one of the round's tube labels: the whole barcode
    matches the pattern. A pattern that does not compile takes the default."""
    compiled = tube_code_re(pattern or DEFAULT_TUBE_PATTERN) or tube_code_re(DEFAULT_TUBE_PATTERN)
    return compiled.fullmatch(barcode) is not None


def valid_choice(field: str, choices: type[models.TextChoices], *, blank: bool = False) -> Q:
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
    # when empty: `due`), and the pooling by control level (`testing.rounds.pooling`): sealed
    # areas one tube per person or per household, controlled and precaution areas their own
    # pool sizes, the rest `pool_size`.
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
    # Hours after which a custody step is late (`custody.queries.overdue`): a closed tube not
    # packed, an open bag not sealed, a sealed bag not received by the lab. A far lab or a
    # night round sets its own.
    pack_within = models.PositiveSmallIntegerField(_("hours to pack a closed tube"), default=1)
    seal_within = models.PositiveSmallIntegerField(_("hours to seal a bag"), default=2)
    receive_within = models.PositiveSmallIntegerField(
        _("hours for the lab to receive a sealed bag"), default=2
    )
    # The lab's tube labels as a regular expression over the whole barcode (uppercase), e.g.
    # `JS\d{10}` for "JS" and ten digits. A scan of a new barcode that does not match is
    # refused; read with the round on the scan path (no query of its own).
    tube_pattern = models.CharField(
        _("tube barcodes"),
        max_length=100,
        default=DEFAULT_TUBE_PATTERN,
        help_text=_(
            "A regular expression for the lab's tube labels, e.g. JS\\d{10} for JS and ten "
            "digits. The default takes letters, digits and dashes with at least one digit."
        ),
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
            models.CheckConstraint(condition=~Q(tube_pattern=""), name="round_has_tube_pattern"),
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
                condition=valid_choice("kind", StationKind), name="station_kind_valid"
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
    # The tube the crew fills now, kept here so a second device or a reload of the station
    # page continues the same tube (set when a tube is opened or switched back to).
    current_tube = models.ForeignKey(
        "testing.Tube",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
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
                condition=valid_choice("role", StaffRole), name="site_post_role_valid"
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

    @property
    def shown_phone(self) -> str:
        """Masked: site staff are not on the building notice (`people.models.post_phone`)."""
        return post_phone(self)
