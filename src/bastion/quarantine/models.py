"""Quarantine sites (集中隔离点) on the places of `people.mobilization` (a `Place` of kind
quarantine site): the site's terms, its rooms, the stays of the people isolated there, their
twice-daily health checks and the incidents of a stay.

Who sees a stay (`StayQuerySet.restrict`, the one rule, also answered for one row by
`core.scope.allows` through `Stay.scope_allows`): the site's staff (its point chief and the
people rostered on it), the command above the site (city, district, street roles over the
site's place), and the person's home community and grid (the `home_*` columns) — nobody else
below the street. Rooms and the site's pages follow the same rule without the home columns.

A room's occupancy is a counter on the room, kept by the intake and the end of a stay under
`select_for_update`, and checked by the database (`0 <= occupants <= capacity`), so two staff
assigning the last bed at once cannot both win."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bastion.core import scope
from bastion.core.models import Located
from bastion.geo.identity import mask_name
from bastion.geo.models import DocKind
from bastion.people.mobilization.models import Place

SITE_LEVELS = ("city", "district", "street")  # roles that see a site's records by its place
HOME_LEVELS = ("community", "grid")  # roles that see a stay by the person's home


def staffed_places_q(user, *, field: str = "place") -> Q:
    """The rows of the places `user` staffs: as their point chief or rostered on a shift
    (`field` names the row's place; "" for the places themselves)."""
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    staffed = Place.objects.filter(
        Q(chief__user=user) | Q(shifts__assignments__person__user=user)
    ).values("pk")
    return Q(**{f"{field}_id__in" if field else "pk__in": staffed})


class SiteQuerySet(scope.ScopedQuerySet):
    """Rows of a site seen by its staff and the command above it (not by the community or
    grid the site stands in)."""

    place_field = "place"

    def restrict(self, user, action: str = scope.VIEW):
        return self.filter(self.site_q(user, action))

    def site_q(self, user, action: str) -> Q:
        if user is not None and user.is_authenticated and user.is_superuser:
            return Q()
        return scope.scope_q(user, action, levels=SITE_LEVELS) | staffed_places_q(
            user, field=self.place_field
        )


class StayQuerySet(SiteQuerySet):
    def restrict(self, user, action: str = scope.VIEW):
        home = scope.scope_q(user, action, levels=HOME_LEVELS, prefix="home_")
        return self.filter(self.site_q(user, action) | home)


class SiteScoped:
    def scope_allows(self, user, action: str) -> bool:
        return type(self).objects.restrict(user, action).filter(pk=self.pk).exists()


class Site(SiteScoped, Located):
    """A quarantine site's terms: how long a stay lasts there (e.g. 14 days here and 7 at
    home), the days of a stay a test is taken (1 = the day of admission)."""

    place = models.OneToOneField(
        "people.Place", models.PROTECT, related_name="+", verbose_name=_("quarantine site")
    )
    stay_days = models.PositiveSmallIntegerField(_("days at the site"), default=14)
    home_days = models.PositiveSmallIntegerField(_("days of home monitoring"), default=7)
    test_days = models.CharField(_("test on days"), max_length=60, default="1,4,7,10,14")

    objects = SiteQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(stay_days__gte=1, stay_days__lte=60, home_days__lte=60),
                name="quarantine_site_days_range",
            )
        ]

    def __str__(self) -> str:
        return str(self.place)

    def test_day_numbers(self) -> list[int]:
        return sorted({int(d) for d in self.test_days.split(",") if d.strip().isdigit()})


class RoomState(models.TextChoices):
    READY = "ready", _("Ready")
    OCCUPIED = "occupied", _("Occupied")
    TO_DISINFECT = "to_disinfect", _("To disinfect")


class Room(SiteScoped, Located):
    place = models.ForeignKey(
        "people.Place", models.PROTECT, related_name="+", verbose_name=_("quarantine site")
    )
    # The hotel's own building (楼栋), not a node of the tree: `Located.building` is that.
    block = models.CharField(_("building"), max_length=20)
    floor = models.SmallIntegerField(_("floor"))
    number = models.CharField(_("room"), max_length=10)
    capacity = models.PositiveSmallIntegerField(_("beds"), default=1)
    occupants = models.PositiveSmallIntegerField(_("occupants"), default=0)
    state = models.CharField(
        _("state"), max_length=12, choices=RoomState.choices, default=RoomState.READY
    )

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["place", "block", "floor", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["place", "block", "number"], name="quarantine_room_once"
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1, capacity__lte=8), name="quarantine_room_capacity"
            ),
            models.CheckConstraint(
                condition=Q(occupants__gte=0, occupants__lte=F("capacity")),
                name="quarantine_room_not_over_full",
            ),
            models.CheckConstraint(
                condition=Q(occupants__gt=0, state=RoomState.OCCUPIED)
                | Q(occupants=0, state__in=[RoomState.READY, RoomState.TO_DISINFECT]),
                name="quarantine_room_state_matches",
            ),
            models.CheckConstraint(
                condition=Q(floor__gte=-5, floor__lte=200), name="quarantine_room_floor"
            ),
            models.CheckConstraint(
                condition=~Q(block="") & ~Q(number=""), name="quarantine_room_named"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.block}-{self.number}"


class Source(models.TextChoices):
    CHECKPOINT = "checkpoint", _("Checkpoint hand-over")
    CALL_LIST = "call_list", _("Call list")
    RETURNEE = "returnee", _("Returnee")
    POSITIVE = "positive", _("Positive response")


class StayState(models.TextChoices):
    IN = "in", _("In quarantine")
    RELEASED = "released", _("Released")
    TRANSFERRED = "transferred", pgettext_lazy("stay state", "Transferred")


class Stay(SiteScoped, Located):
    """One person's stay at a site, located on the site's place; `home_*` hold the ancestor
    ids of the person's home (community and grid), so that their home sees them."""

    place = models.ForeignKey(
        "people.Place", models.PROTECT, related_name="+", verbose_name=_("quarantine site")
    )
    room = models.ForeignKey(Room, models.PROTECT, related_name="stays", verbose_name=_("room"))
    name = models.CharField(_("name"), max_length=50)
    doc_kind = models.CharField(_("document kind"), max_length=16, choices=DocKind.choices)
    doc_number = models.CharField(_("document number"), max_length=18)
    phone = models.CharField(_("phone"), max_length=11, blank=True, default="")
    resident = models.ForeignKey(
        "geo.Resident", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    home_node = models.ForeignKey(
        "geo.Node",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("home community"),
    )
    home_community = models.ForeignKey(
        "geo.Node", models.PROTECT, null=True, blank=True, related_name="+"
    )
    home_grid = models.ForeignKey(
        "geo.Node", models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(_("came from"), max_length=12, choices=Source.choices)
    occupant = models.OneToOneField(
        "checkpoints.Occupant",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checkpoint hand-over"),
    )
    call_row = models.ForeignKey(
        "screening.CallRow", models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A positive response's transfer that brought the person here (incidents' Transfer to
    # this site), and the transfer that took them out (to a hospital).
    transfer_in = models.OneToOneField(
        "incidents.Transfer", models.PROTECT, null=True, blank=True, related_name="+"
    )
    transfer_out = models.OneToOneField(
        "incidents.Transfer", models.PROTECT, null=True, blank=True, related_name="+"
    )
    travel_no = models.CharField(_("flight or train"), max_length=12, blank=True, default="")
    arrival_at = models.DateTimeField(_("arrived in the city"), null=True, blank=True)
    admitted_at = models.DateTimeField(_("admitted"))
    planned_end = models.DateField(_("planned end"))
    state = models.CharField(
        _("state"), max_length=12, choices=StayState.choices, default=StayState.IN
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    early_reason = models.CharField(_("why before the end"), max_length=200, blank=True, default="")
    transfer_to = models.CharField(_("transferred to"), max_length=100, blank=True, default="")
    transfer_vehicle = models.CharField(_("vehicle"), max_length=20, blank=True, default="")
    transfer_escort = models.CharField(_("escort"), max_length=50, blank=True, default="")
    handed_over_at = models.DateTimeField(_("handed over to home"), null=True, blank=True)
    admitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    objects = StayQuerySet.as_manager()

    class Meta:
        ordering = ["-admitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=Source.values), name="quarantine_stay_source"
            ),
            models.CheckConstraint(
                condition=Q(state__in=StayState.values), name="quarantine_stay_state"
            ),
            models.CheckConstraint(
                condition=~Q(name="") & ~Q(doc_number="") & ~Q(doc_kind="none"),
                name="quarantine_stay_identified",
            ),
            models.CheckConstraint(
                condition=Q(state=StayState.IN, ended_at__isnull=True)
                | (~Q(state=StayState.IN) & Q(ended_at__gte=F("admitted_at"))),
                name="quarantine_stay_ended",
            ),
            models.CheckConstraint(
                condition=~Q(source=Source.RETURNEE) | ~Q(travel_no=""),
                name="quarantine_returnee_travel",
            ),
            models.CheckConstraint(
                condition=~Q(source=Source.CHECKPOINT) | Q(occupant__isnull=False),
                name="quarantine_checkpoint_handover",
            ),
            models.CheckConstraint(
                condition=~Q(state=StayState.TRANSFERRED) | ~Q(transfer_to=""),
                name="quarantine_transfer_to",
            ),
            models.CheckConstraint(
                condition=Q(handed_over_at__isnull=True)
                | Q(state=StayState.RELEASED, home_node__isnull=False),
                name="quarantine_handover_after_release",
            ),
            models.UniqueConstraint(
                fields=["doc_kind", "doc_number"],
                condition=Q(state=StayState.IN),
                name="quarantine_one_stay_at_a_time",
            ),
        ]
        indexes = [
            models.Index(fields=["place", "state"], name="quarantine_stay_place_state"),
            models.Index(fields=["admitted_at"], name="quarantine_stay_admitted"),
            models.Index(fields=["ended_at"], name="quarantine_stay_ended_at"),
        ]

    def __str__(self) -> str:
        return mask_name(self.name)  # change records and reveal logs: no full name


class Half(models.TextChoices):
    MORNING = "am", _("Morning")
    AFTERNOON = "pm", _("Afternoon")


SYMPTOMS = {
    "fever": _("Fever"),
    "cough": _("Cough"),
    "sore_throat": _("Sore throat"),
    "fatigue": _("Fatigue"),
    "taste_smell_loss": _("Loss of taste or smell"),
    "diarrhoea": _("Diarrhoea"),
}


class CheckQuerySet(scope.ScopedQuerySet):
    """Health checks and incidents are seen as their stay is."""

    def restrict(self, user, action: str = scope.VIEW):
        return self.filter(stay__in=Stay.objects.restrict(user, action).values("pk"))


class ThroughStay:
    def scope_allows(self, user, action: str) -> bool:
        return self.stay.scope_allows(user, action)


class HealthCheck(ThroughStay, models.Model):
    stay = models.ForeignKey(Stay, models.CASCADE, related_name="checks")
    day = models.DateField(_("day"))
    half = models.CharField(_("check"), max_length=2, choices=Half.choices)
    temperature = models.DecimalField(_("temperature"), max_digits=3, decimal_places=1)
    symptoms = models.CharField(_("symptoms"), max_length=120, blank=True, default="")
    abnormal = models.BooleanField(_("abnormal"), default=False)
    checked_at = models.DateTimeField()
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    objects = CheckQuerySet.as_manager()

    class Meta:
        ordering = ["-day", "-half"]
        constraints = [
            models.UniqueConstraint(fields=["stay", "day", "half"], name="quarantine_check_once"),
            models.CheckConstraint(
                condition=Q(temperature__gte=34, temperature__lte=43),
                name="quarantine_check_temperature_range",
            ),
            models.CheckConstraint(condition=Q(half__in=Half.values), name="quarantine_check_half"),
        ]

    def __str__(self) -> str:
        return f"{self.stay_id} {self.day} {self.half}"


class IncidentKind(models.TextChoices):
    REFUSAL = "refusal", _("Refusal")
    ILLNESS = "illness", _("Illness")
    LEAVING = "leaving", _("Leaving the room")
    OTHER = "other", _("Other")


class StayIncident(ThroughStay, models.Model):
    """An incident of a stay (a refusal, an illness, someone leaving) with what was done."""

    stay = models.ForeignKey(Stay, models.CASCADE, related_name="incidents")
    kind = models.CharField(_("kind"), max_length=10, choices=IncidentKind.choices)
    at = models.DateTimeField(_("at"))
    what = models.CharField(_("what happened"), max_length=300)
    done = models.CharField(_("what was done"), max_length=300)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    objects = CheckQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=IncidentKind.values), name="quarantine_incident_kind"
            ),
            models.CheckConstraint(
                condition=~Q(what="") & ~Q(done=""), name="quarantine_incident_told"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%m-%d}"
