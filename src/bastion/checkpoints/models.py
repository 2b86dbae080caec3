"""Checkpoints (卡口) and compound gates (小区卡点), on the places of `people.mobilization`.

A checkpoint is a `Place` of kind checkpoint; a compound's gate is a `Place` of kind guard
point standing on the community (or a grid) it closes. Every row is located on its place, so
the place's community sees its log and the board rolls up per place with one GROUP BY.

* `Entry`: one vehicle (or a person on foot) stopped at a checkpoint, with its `Occupant`s,
  each with their own decision. Written as device writes, in batches, by client id.
* `Passage`: one person through a compound's gate, in or out: a resident (found in the
  register) or a visitor (reason and host household); refused with the reason when the
  resident's unit is sealed."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from bastion.core.models import Located
from bastion.geo.models import DocKind


class VehicleKind(models.TextChoices):
    TRUCK = "truck", _("Truck")
    CAR = "car", _("Car")
    BUS = "bus", _("Bus")
    VAN = "van", _("Van")
    TWO_WHEELER = "two_wheeler", _("Two-wheeler")
    ON_FOOT = "on_foot", _("On foot")


class HealthCode(models.TextChoices):
    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


class Decision(models.TextChoices):
    PASS = "pass", _("Pass")
    ESCORT = "escort", _("Pass under escort")
    TURNED_BACK = "turned_back", _("Turned back")
    QUARANTINE = "quarantine", _("Handed to quarantine")
    FEVER_CLINIC = "fever_clinic", _("Sent to a fever clinic")


# Decisions that hand the person over to someone else.
HANDED_OVER = (Decision.QUARANTINE, Decision.FEVER_CLINIC)


class Entry(Located):
    place = models.ForeignKey(
        "people.Place", models.PROTECT, related_name="+", verbose_name=_("checkpoint")
    )
    plate = models.CharField(_("plate"), max_length=8, blank=True, default="")
    kind = models.CharField(_("vehicle"), max_length=12, choices=VehicleKind.choices)
    cargo = models.CharField(_("cargo"), max_length=100, blank=True, default="")
    origin = models.CharField(_("from"), max_length=100, blank=True, default="")
    destination = models.CharField(_("to"), max_length=100, blank=True, default="")
    arrived_at = models.DateTimeField(_("in"))
    left_at = models.DateTimeField(_("out"), null=True, blank=True)
    crew = models.ForeignKey(
        "people.Person", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shift = models.PositiveSmallIntegerField(_("shift"), default=0)  # the place's shift index
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(unique=True)
    people = models.PositiveSmallIntegerField(default=0)
    turned_back = models.PositiveSmallIntegerField(default=0)
    handed_over = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-arrived_at", "-id"]
        verbose_name_plural = "entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=VehicleKind.values), name="checkpoint_entry_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["on_foot", "two_wheeler"]) | ~Q(plate=""),
                name="checkpoint_entry_vehicle_has_plate",
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=F("arrived_at")),
                name="checkpoint_entry_out_after_in",
            ),
            models.CheckConstraint(
                condition=Q(people__gte=F("turned_back") + F("handed_over")),
                name="checkpoint_entry_tallies",
            ),
        ]
        indexes = [
            models.Index(fields=["place", "arrived_at"], name="checkpoint_entry_place_at"),
            models.Index(fields=["plate", "arrived_at"], name="checkpoint_entry_plate_at"),
        ]

    def __str__(self) -> str:
        return self.plate or self.get_kind_display()


class Occupant(Located):
    entry = models.ForeignKey(Entry, models.CASCADE, related_name="occupants")
    driver = models.BooleanField(_("driver"), default=False)
    name = models.CharField(_("name"), max_length=50)
    doc_kind = models.CharField(_("document kind"), max_length=16, choices=DocKind.choices)
    doc_number = models.CharField(_("document number"), max_length=18)
    phone = models.CharField(_("phone"), max_length=11, blank=True, default="")
    health_code = models.CharField(_("health code"), max_length=6, choices=HealthCode.choices)
    travel_places = models.CharField(_("travel code places"), max_length=200, blank=True)
    temperature = models.DecimalField(_("temperature"), max_digits=3, decimal_places=1)
    last_test_at = models.DateTimeField(_("last test"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=12, choices=Decision.choices)
    arrived_at = models.DateTimeField()  # the entry's, kept here for counting per hour
    # A person handed to quarantine: when the quarantine site confirmed receiving them
    # (`occupant_receive`, called by the quarantine module's intake); empty while waiting.
    received_at = models.DateTimeField(_("received"), null=True, blank=True)

    class Meta:
        ordering = ["entry_id", "-driver", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(temperature__gte=34, temperature__lte=43),
                name="checkpoint_occupant_temperature_range",
            ),
            models.CheckConstraint(
                condition=Q(decision__in=Decision.values), name="checkpoint_occupant_decision"
            ),
            models.CheckConstraint(
                condition=Q(health_code__in=HealthCode.values),
                name="checkpoint_occupant_health_code",
            ),
            models.CheckConstraint(
                condition=~Q(name="") & ~Q(doc_number="") & ~Q(doc_kind="none"),
                name="checkpoint_occupant_identified",
            ),
            models.UniqueConstraint(
                fields=["entry"], condition=Q(driver=True), name="checkpoint_one_driver"
            ),
            models.UniqueConstraint(
                fields=["entry", "doc_kind", "doc_number"], name="checkpoint_occupant_once"
            ),
            models.CheckConstraint(
                condition=Q(received_at__isnull=True) | Q(decision="quarantine"),
                name="checkpoint_occupant_received_to_quarantine",
            ),
        ]
        indexes = [
            models.Index(fields=["arrived_at", "decision"], name="checkpoint_occupant_at"),
        ]

    def __str__(self) -> str:
        return self.name


class Direction(models.TextChoices):
    IN = "in", _("In")
    OUT = "out", _("Out")


class GateRule(models.TextChoices):
    """Why the gate itself turned someone back (stored as a code, shown in the reader's
    language); a crew's own reason is free text in `reason`."""

    SEALED = "sealed", _("The resident's unit is sealed: stay at home, supplies are delivered.")
    CONTROLLED = "controlled", _("The resident's area is controlled: stay inside the compound.")
    FEVER = "fever", _("A fever: to a fever clinic, not into the compound.")


class Passage(Located):
    """One person through a compound's gate. `resident` for a resident; otherwise a visitor,
    with their name, phone, reason and the household they visit. `refused` with `reason`
    when the gate turned them back."""

    place = models.ForeignKey(
        "people.Place", models.PROTECT, related_name="+", verbose_name=_("gate")
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    at = models.DateTimeField(_("at"))
    resident = models.ForeignKey(
        "geo.Resident", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    visitor_name = models.CharField(_("visitor"), max_length=50, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=11, blank=True, default="")
    purpose = models.CharField(_("reason for the visit"), max_length=100, blank=True, default="")
    host = models.ForeignKey(
        "geo.Household",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("host household"),
    )
    temperature = models.DecimalField(
        _("temperature"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    refused = models.BooleanField(_("turned back"), default=False)
    reason = models.CharField(_("why turned back"), max_length=200, blank=True, default="")
    rule = models.CharField(max_length=12, choices=GateRule.choices, blank=True, default="")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(unique=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="gate_passage_direction"
            ),
            models.CheckConstraint(
                condition=Q(resident__isnull=False) | ~Q(visitor_name=""),
                name="gate_passage_someone",
            ),
            models.CheckConstraint(
                condition=Q(resident__isnull=False) | Q(direction="out") | ~Q(purpose=""),
                name="gate_passage_visitor_reason",
            ),
            models.CheckConstraint(
                condition=Q(refused=False, rule="")
                | Q(refused=True) & (~Q(reason="") | ~Q(rule="")),
                name="gate_passage_refusal_reason",
            ),
            models.CheckConstraint(
                condition=Q(temperature__isnull=True) | Q(temperature__gte=34, temperature__lte=43),
                name="gate_passage_temperature_range",
            ),
        ]
        indexes = [models.Index(fields=["place", "at"], name="gate_passage_place_at")]

    def __str__(self) -> str:
        return f"{self.place_id} {self.direction} {self.at:%H:%M}"

    @property
    def why(self) -> str:
        """Why turned back, in the reader's language."""
        return str(GateRule(self.rule).label) if self.rule else self.reason
