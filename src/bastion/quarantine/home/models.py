"""Home measures (居家隔离 / 居家健康监测): a person placed under home isolation or home health
monitoring from a start day to an end day, located on their household (or the home node a
quarantine site handed them over to), with the twice-daily reports of their temperature and
symptoms, entered by the grid chief or by the household itself.

Who sees a measure (`MeasureQuerySet.restrict`, also answered for one row by `allows`): the
person's home community and grid and the command above (street, district, city) — nobody else
below the street (not the building or unit chiefs). The database keeps the end after the start
and every reported temperature within 34–43 °C."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from bastion.core import scope
from bastion.core.models import Located
from bastion.geo.identity import mask_name
from bastion.geo.models import DocKind
from bastion.quarantine.models import Half

MEASURE_LEVELS = ("city", "district", "street", "community", "grid")


class MeasureKind(models.TextChoices):
    ISOLATION = "isolation", _("Home isolation")
    MONITORING = "monitoring", _("Home health monitoring")


class MeasureSource(models.TextChoices):
    RELEASE = "release", _("Released from a quarantine site")
    CLOSE_CONTACT = "close_contact", _("Close contact (outbreak response)")
    COMMUNITY = "community", _("Entered by the community")


class MeasureQuerySet(scope.ScopedQuerySet):
    def restrict(self, user, action: str = scope.VIEW):
        return self.filter(scope.scope_q(user, action, levels=MEASURE_LEVELS))


class HomeMeasure(Located):
    """One person under a home measure. `ended_at` is set when the measure is closed (on its
    end day or earlier with a reason); a measure is current while it is not closed and today
    is not after `ends_on`."""

    kind = models.CharField(_("measure"), max_length=12, choices=MeasureKind.choices)
    name = models.CharField(_("name"), max_length=50)
    doc_kind = models.CharField(_("document kind"), max_length=16, choices=DocKind.choices)
    doc_number = models.CharField(_("document number"), max_length=18)
    phone = models.CharField(_("phone"), max_length=11, blank=True, default="")
    resident = models.ForeignKey(
        "geo.Resident", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    household = models.ForeignKey(
        "geo.Household", models.PROTECT, null=True, blank=True, related_name="+"
    )
    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+", verbose_name=_("home"))
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    reason = models.CharField(_("reason"), max_length=200)
    source = models.CharField(_("came from"), max_length=14, choices=MeasureSource.choices)
    stay = models.OneToOneField(
        "quarantine.Stay", models.PROTECT, null=True, blank=True, related_name="home_measure"
    )
    door_sensor = models.BooleanField(_("door sensor"), default=False)
    grid_chief = models.ForeignKey(
        "people.Person",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("grid chief"),
    )
    test_days = models.CharField(_("test on days"), max_length=60, blank=True, default="1,3,7")
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(_("why ended"), max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    objects = MeasureQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="home_measure_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=MeasureKind.values), name="home_measure_kind"
            ),
            models.CheckConstraint(
                condition=Q(source__in=MeasureSource.values), name="home_measure_source"
            ),
            models.CheckConstraint(
                condition=~Q(name="") & ~Q(doc_number="") & ~Q(reason=""),
                name="home_measure_identified",
            ),
            models.CheckConstraint(
                condition=~Q(source=MeasureSource.RELEASE) | Q(stay__isnull=False),
                name="home_measure_release_stay",
            ),
            models.UniqueConstraint(
                fields=["doc_kind", "doc_number"],
                condition=Q(ended_at__isnull=True),
                name="home_measure_one_at_a_time",
            ),
        ]
        indexes = [
            models.Index(fields=["grid", "ended_at"], name="home_measure_grid_open"),
            models.Index(fields=["ends_on"], name="home_measure_ends_on"),
        ]

    def __str__(self) -> str:
        return mask_name(self.name)

    def scope_allows(self, user, action: str) -> bool:
        return type(self).objects.restrict(user, action).filter(pk=self.pk).exists()

    def test_day_numbers(self) -> list[int]:
        return sorted({int(d) for d in self.test_days.split(",") if d.strip().isdigit()})


class ReportQuerySet(scope.ScopedQuerySet):
    def restrict(self, user, action: str = scope.VIEW):
        return self.filter(measure__in=HomeMeasure.objects.restrict(user, action).values("pk"))


class Reporter(models.TextChoices):
    GRID_CHIEF = "chief", _("Grid chief")
    HOUSEHOLD = "household", _("Household")


class HomeReport(models.Model):
    """One of the twice-daily reports (morning / afternoon) of a person at home."""

    measure = models.ForeignKey(HomeMeasure, models.CASCADE, related_name="reports")
    day = models.DateField(_("day"))
    half = models.CharField(_("check"), max_length=2, choices=Half.choices)
    temperature = models.DecimalField(_("temperature"), max_digits=3, decimal_places=1)
    symptoms = models.CharField(_("symptoms"), max_length=120, blank=True, default="")
    abnormal = models.BooleanField(_("abnormal"), default=False)
    reporter = models.CharField(_("entered by"), max_length=10, choices=Reporter.choices)
    reported_at = models.DateTimeField()
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-day", "-half"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "day", "half"], name="home_report_once"),
            models.CheckConstraint(
                condition=Q(temperature__gte=34, temperature__lte=43),
                name="home_report_temperature_range",
            ),
            models.CheckConstraint(condition=Q(half__in=Half.values), name="home_report_half"),
        ]

    def __str__(self) -> str:
        return f"{self.measure_id} {self.day} {self.half}"

    def scope_allows(self, user, action: str) -> bool:
        return self.measure.scope_allows(user, action)

    @property
    def household_id(self) -> int | None:
        """The household the report is of (a household link sees its own reports)."""
        return self.measure.household_id
