"""The drivers' service station (司机驿站) beside a checkpoint: a log of each driver's visit
(found by plate, pass code or document), arrived and left, rest, meals, a test taken and when
its result came. Located on the checkpoint's place, so its community sees the log and the
daily figures roll up per grid."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from bastion.core.models import Located
from bastion.geo.models import DocKind

MAX_MEALS = 6


class StationVisit(Located):
    place = models.ForeignKey(
        "people.Place", models.PROTECT, related_name="+", verbose_name=_("service station")
    )
    plate = models.CharField(_("plate"), max_length=8, blank=True, default="")
    loop_pass = models.ForeignKey(
        "checkpoints.LoopPass", models.SET_NULL, null=True, blank=True, related_name="visits"
    )
    name = models.CharField(_("name"), max_length=50, blank=True, default="")
    doc_kind = models.CharField(
        _("document kind"), max_length=16, choices=DocKind.choices, blank=True, default=""
    )
    doc_number = models.CharField(_("document number"), max_length=18, blank=True, default="")
    arrived_at = models.DateTimeField(_("arrived"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    rested = models.BooleanField(_("rested"), default=False)
    meals = models.PositiveSmallIntegerField(_("meals"), default=0)
    tested = models.BooleanField(_("test taken"), default=False)
    result_at = models.DateTimeField(_("test result at"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(unique=True)

    class Meta:
        ordering = ["-arrived_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(plate="") | Q(loop_pass__isnull=False) | ~Q(doc_number=""),
                name="station_visit_identified",
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=F("arrived_at")),
                name="station_visit_left_after_arrival",
            ),
            models.CheckConstraint(
                condition=Q(meals__lte=MAX_MEALS), name="station_visit_meals_range"
            ),
            models.CheckConstraint(
                condition=Q(result_at__isnull=True) | Q(tested=True),
                name="station_visit_result_needs_test",
            ),
        ]
        indexes = [models.Index(fields=["place", "arrived_at"], name="station_visit_place_at")]

    def __str__(self) -> str:
        return self.plate or self.name or str(self.pk)
