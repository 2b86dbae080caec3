"""Mobilization's tables: the reserve pool (skills, availability), dispatches and
deployments, report-ins, places on duty with their shifts, assignments and check-ins, teams at
sites, allowance months with their rates, awards and lines. App label "people": these are
the people app's tables, declared here and imported by `people.models`.

Over 600 lines on purpose: one module of tables, whose constraints read best side by side;
the concepts are in the same order as the `services` and `queries` packages."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bastion.core.models import Located


class Skill(models.TextChoices):
    MEDIC = "medic", _("Medic")
    NURSE = "nurse", _("Nurse")
    DRIVER = "driver", _("Driver")
    POLICE = "police", _("Police")
    INTERPRETER = "interpreter", _("Interpreter")
    PSYCHOLOGIST = "psychologist", _("Psychologist")
    LAWYER = "lawyer", _("Lawyer")
    ELECTRICIAN = "electrician", _("Electrician")
    IT = "it", _("IT support")
    LOGISTICS = "logistics", _("Logistics")
    SOCIAL_WORKER = "social_worker", _("Social worker")


class AvailabilityStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    LIMITED = "limited", _("Part-time")
    UNAVAILABLE = "unavailable", _("Unavailable")


class PersonSkill(Located):
    """A skill a person offers (located as the person)."""

    person = models.ForeignKey("people.Person", models.CASCADE, related_name="skills")
    skill = models.CharField(_("skill"), max_length=20, choices=Skill.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "skill"], name="person_skill_once"),
            models.CheckConstraint(
                condition=Q(skill__in=[s.value for s in Skill]), name="person_skill_valid"
            ),
        ]
        indexes = [models.Index(fields=["skill"])]

    def __str__(self) -> str:
        return f"{self.person_id}:{self.skill}"


class Availability(Located):
    """Whether a person can be called on, and until when (located as the person). A person
    without a row is available."""

    person = models.OneToOneField("people.Person", models.CASCADE, related_name="availability")
    status = models.CharField(
        _("availability"),
        max_length=12,
        choices=AvailabilityStatus.choices,
        default=AvailabilityStatus.AVAILABLE,
    )
    until = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in AvailabilityStatus]),
                name="availability_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}:{self.status}"


class PlaceKind(models.TextChoices):
    GUARD_POINT = "guard_point", _("Guard point")
    CHECKPOINT = "checkpoint", _("Checkpoint")
    SAMPLING_SITE = "sampling_site", _("Sampling site")
    QUARANTINE_SITE = "quarantine_site", _("Quarantine site")


class Place(Located):
    """A place where people are on duty around the clock: a guard point at a building or
    entrance, a checkpoint, a sampling site, a quarantine site. It stands on a node and has a
    point chief. Its day is cut into `shifts_per_day` shifts of `shift_hours`, the first
    starting at `first_shift_at`, each needing `required` people.

    Another module's record for the same place (a testing site, a quarantine site) is named by
    `ref_type` ("testing.site") and `ref_id`, so this table depends on no other module."""

    node = models.ForeignKey(
        "geo.Node", models.PROTECT, related_name="+", verbose_name=_("located in")
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=PlaceKind.choices)
    address = models.CharField(_("address"), max_length=200, blank=True)
    chief = models.ForeignKey(
        "people.Person",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="places_led",
        verbose_name=_("point chief"),
    )
    shifts_per_day = models.PositiveSmallIntegerField(_("shifts a day"), default=3)
    shift_hours = models.PositiveSmallIntegerField(_("hours a shift"), default=8)
    first_shift_at = models.TimeField(_("first shift starts at"), default=dt.time(8, 0))
    required = models.PositiveSmallIntegerField(_("people a shift"), default=2)
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    ref_type = models.CharField(max_length=40, blank=True)
    ref_id = models.BigIntegerField(null=True, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in PlaceKind]), name="place_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="place_has_name"),
            models.CheckConstraint(condition=Q(community__isnull=False), name="place_in_community"),
            models.UniqueConstraint(fields=["street", "name"], name="place_unique_name"),
            models.CheckConstraint(
                condition=Q(
                    shifts_per_day__gte=1,
                    shifts_per_day__lte=6,
                    shift_hours__gte=1,
                    shift_hours__lte=24,
                ),
                name="place_shift_range",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(F("shifts_per_day") * F("shift_hours"), 24),
                name="place_shifts_fit_a_day",
            ),
            models.CheckConstraint(
                condition=Q(required__gte=1, required__lte=50), name="place_required_range"
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("opened_on")),
                name="place_closed_after_opened",
            ),
            models.UniqueConstraint(
                fields=["ref_type", "ref_id"],
                condition=Q(ref_id__isnull=False),
                name="place_ref_once",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def open_on(self, day: dt.date) -> bool:
        """Whether the place is on duty on `day` (between opening and closing, both kept)."""
        return self.opened_on <= day and (self.closed_on is None or day <= self.closed_on)

    def duty_day(self, at: dt.datetime | None = None) -> dt.date:
        """The roster day on duty at `at` (now by default): a day runs from its first shift's
        start to the next day's, so at 2 a.m. the night shift is still yesterday's roster —
        a shift belongs to the duty day it started on."""
        local = timezone.localtime(at or timezone.now())
        start = dt.timedelta(hours=self.first_shift_at.hour, minutes=self.first_shift_at.minute)
        return (local.replace(tzinfo=None) - start).date()

    def shift_times(self, day: dt.date) -> list[tuple[int, dt.datetime, dt.datetime]]:
        """The shifts of the place on roster day `day`: (index, start, end), in local time."""
        zone = timezone.get_current_timezone()
        first = dt.datetime.combine(day, self.first_shift_at, tzinfo=zone)
        hours = dt.timedelta(hours=self.shift_hours)
        return [(i, first + i * hours, first + (i + 1) * hours) for i in range(self.shifts_per_day)]


class Shift(Located):
    """One shift of a place's day (located as the place). `day` is the roster day it belongs
    to; a night shift may end on the next calendar day."""

    place = models.ForeignKey(Place, models.PROTECT, related_name="shifts")
    day = models.DateField(_("day"))
    index = models.PositiveSmallIntegerField(_("shift"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    required = models.PositiveSmallIntegerField(_("people needed"))

    class Meta:
        ordering = ["starts_at", "place_id"]
        constraints = [
            models.UniqueConstraint(fields=["place", "day", "index"], name="shift_once"),
            models.UniqueConstraint(fields=["place", "starts_at"], name="shift_one_start"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(required__gte=0, required__lte=50), name="shift_required_range"
            ),
        ]
        indexes = [models.Index(fields=["day", "grid"]), models.Index(fields=["day", "place"])]

    def __str__(self) -> str:
        return f"{self.place_id} {self.day} #{self.index + 1}"


class Assignment(Located):
    """A person rostered on a shift (located as the place). The shift's times are copied
    here so that the database itself refuses a person twice at the same start, and the
    services check overlaps and hours in a row on one indexed column."""

    shift = models.ForeignKey(Shift, models.PROTECT, related_name="assignments")
    person = models.ForeignKey("people.Person", models.PROTECT, related_name="duties")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shift", "person"], name="assignment_once"),
            models.UniqueConstraint(
                fields=["person", "starts_at"], name="assignment_one_place_at_a_time"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="assignment_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["person", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.shift_id}"


class CheckKind(models.TextChoices):
    IN = "in", _("Check-in")
    OUT = "out", _("Check-out")


class CheckEvent(Located):
    """A check-in or check-out of an assignment, at most one of each (located as the place).
    A device makes `client_id`, so a retried check-in stores nothing new. A check-out carries
    the handover note for the next shift."""

    assignment = models.ForeignKey(Assignment, models.PROTECT, related_name="checks")
    kind = models.CharField(_("kind"), max_length=3, choices=CheckKind.choices)
    day = models.DateField(_("day"))  # the shift's roster day, for the daily figures
    at = models.DateTimeField(_("at"))
    recorded_at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("handover note"), blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "kind"], name="check_once_per_kind"),
            models.CheckConstraint(condition=Q(kind__in=["in", "out"]), name="check_kind_valid"),
        ]
        indexes = [models.Index(fields=["day", "grid"])]

    def __str__(self) -> str:
        return f"{self.assignment_id} {self.kind}"


class DeploymentKind(models.TextChoices):
    SENT_DOWN = "sent_down", _("Sent down")
    RESERVE = "reserve", _("From the reserve pool")


class Dispatch(Located):
    """One order sending a selection of persons to a node or a place for a period (located
    at the target). Its deployments are the persons; a retried order (same `client_id`)
    sends nobody twice."""

    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+")
    place = models.ForeignKey(Place, models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=DeploymentKind.choices)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="dispatch_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in DeploymentKind]), name="dispatch_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_on}–{self.ends_on}"


class Deployment(Located):
    """One person sent to a node or place from `starts_on` to `ends_on` (located at the
    target). A recall ends it early: from `recalled_on` on, the person is no longer there."""

    dispatch = models.ForeignKey(Dispatch, models.PROTECT, related_name="deployments")
    person = models.ForeignKey("people.Person", models.PROTECT, related_name="deployments")
    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+")
    place = models.ForeignKey(Place, models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=DeploymentKind.choices)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    recalled_on = models.DateField(_("recalled on"), null=True, blank=True)
    recall_reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dispatch", "person"], name="deployment_once"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="deployment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(recalled_on__isnull=True)
                | Q(recalled_on__gte=F("starts_on"), recalled_on__lte=F("ends_on")),
                name="deployment_recall_in_period",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in DeploymentKind]),
                name="deployment_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "starts_on"]),
            models.Index(fields=["community", "ends_on"]),
            models.Index(fields=["grid", "ends_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.person} → {self.node}"


class ReportInStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the community")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Not accepted")


class ReportIn(Located):
    """A party member's registration with the community they live in (报到), made through
    the public form; the community confirms it (linking or creating the person) and gives a
    post or a task. One registration per ID number while it is pending or confirmed."""

    community = models.ForeignKey(
        "geo.Node", models.PROTECT, related_name="+", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=50)
    id_number = models.CharField(_("ID number"), max_length=18)
    phone = models.CharField(_("mobile"), max_length=11)
    employer_name = models.CharField(_("employer"), max_length=120, blank=True)
    skills = models.CharField(_("skills"), max_length=200, blank=True)  # comma-separated
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ReportInStatus.choices, default=ReportInStatus.PENDING
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    source_key = models.CharField(max_length=64, blank=True)  # hash of the sender's address
    person = models.ForeignKey(
        "people.Person", models.PROTECT, null=True, blank=True, related_name="reports_in"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    post = models.ForeignKey(
        "people.Post", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    task = models.CharField(_("task"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"], condition=~Q(status="rejected"), name="report_in_once"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ReportInStatus]),
                name="report_in_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(id_number__regex=r"^[0-9]{17}[0-9X]$"), name="report_in_id_format"
            ),
            models.CheckConstraint(
                condition=Q(phone__regex=r"^1[3-9][0-9]{9}$"), name="report_in_phone_format"
            ),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(person__isnull=False),
                name="report_in_confirmed_has_person",
            ),
        ]
        indexes = [
            models.Index(fields=["source_key", "submitted_at"]),
            models.Index(fields=["status", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return self.name


class ReportInAttempt(models.Model):
    """One use of the public report-in form from an address (its keyed hash), kept for the
    hour the rate limit looks back: the limit counts uses, not registrations made, so that
    a registered and an unregistered ID number use it up alike."""

    source_key = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["source_key", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.source_key[:8]} {self.at:%Y-%m-%d %H:%M}"


class TeamKind(models.TextChoices):
    BRANCH = "branch", _("Temporary party branch")
    PIONEER_POST = "pioneer_post", _("Pioneer post")
    RESPONSIBILITY_AREA = "responsibility_area", _("Responsibility area")
    SHOCK_TEAM = "shock_team", _("Shock team")


class Team(Located):
    """An organisation set up for the response: a temporary party branch bound to a place
    (with its party organisation row), a pioneer post, a responsibility area or a shock team
    (located at its node, or its place's)."""

    kind = models.CharField(_("kind"), max_length=20, choices=TeamKind.choices)
    name = models.CharField(_("name"), max_length=120)
    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+")
    place = models.ForeignKey(Place, models.PROTECT, null=True, blank=True, related_name="teams")
    organisation = models.OneToOneField(
        "people.Organisation", models.PROTECT, null=True, blank=True, related_name="team"
    )
    formed_on = models.DateField(_("formed on"))
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in TeamKind]), name="team_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(kind="branch") | Q(place__isnull=False, organisation__isnull=False),
                name="team_branch_at_place",
            ),
            models.UniqueConstraint(
                fields=["node", "kind", "name"],
                condition=Q(dissolved_on__isnull=True),
                name="team_unique_name",
            ),
            models.CheckConstraint(
                condition=Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=F("formed_on")),
                name="team_dissolved_after_formed",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TeamMember(Located):
    """A person in a team (located as the team); `title` such as secretary or leader."""

    team = models.ForeignKey(Team, models.PROTECT, related_name="members")
    person = models.ForeignKey("people.Person", models.PROTECT, related_name="team_memberships")
    title = models.CharField(_("title"), max_length=30, blank=True)
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team", "person"],
                condition=Q(left_on__isnull=True),
                name="team_member_once",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                name="team_member_left_after_joined",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.team_id}"


class MonthStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("month", "Open")
    CLOSED = "closed", pgettext_lazy("month", "Closed")


class AllowanceMonth(Located):
    """The allowance ledger of one node's subtree for one month (located at the node). While
    open its rates, awards and lines may change; once closed nothing of it may — the services
    refuse, and database triggers refuse any insert, update or delete of its rates, awards and
    lines and any update of the month itself."""

    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+")
    month = models.DateField(_("month"))  # its first day
    status = models.CharField(
        _("status"), max_length=6, choices=MonthStatus.choices, default=MonthStatus.OPEN
    )
    payer = models.ForeignKey(
        "people.Organisation",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("paying body"),
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["node", "month"], name="allowance_month_once"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "closed"]), name="allowance_month_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="allowance_month_closed_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class RateUnit(models.TextChoices):
    DAY = "day", _("a day")
    MONTH = "month", _("a month")


class AllowanceRate(Located):
    """An amount of a month (located as the month): `key` is a place kind (paid for each day
    with a checked-in shift there) or "post:<role>" (paid monthly, by days held)."""

    month = models.ForeignKey(AllowanceMonth, models.PROTECT, related_name="rates")
    key = models.CharField(max_length=40)
    unit = models.CharField(max_length=5, choices=RateUnit.choices)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "key"], name="allowance_rate_once"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="allowance_rate_positive"),
            models.CheckConstraint(
                condition=Q(unit__in=["day", "month"]), name="allowance_rate_unit_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.amount}/{self.unit}"


class Award(Located):
    """A one-off amount for a person in a month, e.g. "grid star" (located at the awarding
    node)."""

    month = models.ForeignKey(AllowanceMonth, models.PROTECT, related_name="awards")
    person = models.ForeignKey("people.Person", models.PROTECT, related_name="awards")
    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+")
    title = models.CharField(_("award"), max_length=60)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    awarded_on = models.DateField(_("awarded on"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="award_amount_positive"),
            models.CheckConstraint(condition=~Q(title=""), name="award_has_title"),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.person_id}"


class LineKind(models.TextChoices):
    DAILY = "daily", _("Daily allowance")
    MONTHLY = "monthly", _("Monthly allowance")
    AWARD = "award", _("Award")


class AllowanceLine(Located):
    """One computed line of a month's ledger (located as the month): a person, who pays,
    what for (`key`: the rate's key or the award's title), how many days, at what rate."""

    month = models.ForeignKey(AllowanceMonth, models.PROTECT, related_name="lines")
    person = models.ForeignKey("people.Person", models.PROTECT, related_name="+")
    payer = models.ForeignKey(
        "people.Organisation", models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=LineKind.choices)
    key = models.CharField(max_length=60)
    days = models.PositiveSmallIntegerField(default=0)
    rate = models.DecimalField(max_digits=10, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="allowance_line_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in LineKind]), name="allowance_line_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["month", "person"])]

    def __str__(self) -> str:
        return f"{self.person_id} {self.key} {self.amount}"


# What a deployment may change in settings.py; each has this default.
MOBILIZATION_DEFAULTS: dict[str, object] = {
    # A community with fewer extra cadres (persons sent down to it, on duty today) is listed.
    "BASTION_MIN_EXTRA_CADRES": 3,
    # Nobody is rostered longer than this in a row; shifts less than the rest apart are "in a
    # row".
    "BASTION_ROSTER_MAX_HOURS_IN_A_ROW": 16,
    "BASTION_ROSTER_MIN_REST_HOURS": 8,
    # How early before its start a shift can be checked in.
    "BASTION_CHECK_IN_EARLY_MINUTES": 60,
    # Public report-in registrations accepted from one address in an hour.
    "BASTION_REPORT_IN_PER_HOUR": 20,
    # The rates a new allowance month starts with: key → (unit, amount). A place kind is paid
    # per day with a checked-in shift there; "post:<role>" monthly, by the days it is held.
    "BASTION_ALLOWANCE_RATES": {
        "checkpoint": ("day", "200.00"),
        "quarantine_site": ("day", "200.00"),
        "sampling_site": ("day", "150.00"),
        "guard_point": ("day", "100.00"),
        "post:grid_chief": ("month", "1500.00"),
    },
}


def mobilization_setting(name: str):
    return getattr(settings, name, MOBILIZATION_DEFAULTS[name])
