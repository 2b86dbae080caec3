"""Transfers (转运): one person taken from where they are — their household, a checkpoint, a
quarantine site — to a hospital, a quarantine site or home, in a vehicle with an escort.

A transfer is located on its *from* end (the household's unit, or the place's node), so that
end's chiefs see and change it; the *to* end (a quarantine site's place, or the home
household) sees it too, through `TransferQuerySet.restrict`. Other modules attach their own
transfers by `source` ("response", "quarantine", "checkpoint") and `source_id`, so this table
depends on none of them.

States: planned → on the way (departed) → arrived; planned or on the way → cancelled, with a
reason. The times follow the states, and the database holds that."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bastion.core.models import Located
from bastion.core.scope import ScopedQuerySet, scope_q
from bastion.geo.models import Household
from bastion.people.mobilization.models import Place


class Reason(models.TextChoices):
    POSITIVE = "positive", _("Positive case")
    CLOSE_CONTACT = "close_contact", _("Close contact")
    SECONDARY_CONTACT = "secondary_contact", _("Contact of a close contact")
    ABNORMAL_CHECK = "abnormal_check", _("Abnormal health check")
    FEVER = "fever", _("Fever")
    RELEASE = "release", _("Released, going home")
    OTHER = "other", _("Other")


class Destination(models.TextChoices):
    HOSPITAL = "hospital", _("Hospital")
    QUARANTINE = "quarantine", _("Quarantine site")
    HOME = "home", pgettext_lazy("transfer destination", "Home")


class State(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ON_THE_WAY = "on_the_way", pgettext_lazy("transfer", "On the way")
    ARRIVED = "arrived", _("Arrived")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATES = (State.PLANNED, State.ON_THE_WAY)


class TransferQuerySet(ScopedQuerySet):
    def restrict(self, user, action: str = "view"):
        """The rows whose from end lies in the user's scope, or whose to end does (the
        quarantine site's place, the home household): both ends see and work a transfer."""
        q = scope_q(user, action)
        if not user or not getattr(user, "is_authenticated", False) or user.is_superuser:
            return self.filter(q)
        return self.filter(
            q
            | Q(to_place__in=Place.objects.filter(scope_q(user, action)).values("pk"))
            | Q(to_household__in=Household.objects.filter(scope_q(user, action)).values("pk"))
        )


class Transfer(Located):
    # Who: a resident of the register, or a name and document for someone who is not on it.
    resident = models.ForeignKey(
        "geo.Resident",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resident"),
    )
    name = models.CharField(_("name"), max_length=50)
    doc_kind = models.CharField(_("document kind"), max_length=16, blank=True, default="")
    doc_number = models.CharField(_("document number"), max_length=18, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=11, blank=True, default="")
    # From: a household, or a place on duty (a checkpoint, a quarantine site).
    from_household = models.ForeignKey(
        "geo.Household",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from household"),
    )
    from_place = models.ForeignKey(
        "people.Place",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from place"),
    )
    # To: a hospital by name, a quarantine site's place, or home (a household).
    destination = models.CharField(_("to"), max_length=10, choices=Destination.choices)
    to_hospital = models.CharField(_("hospital"), max_length=100, blank=True, default="")
    to_place = models.ForeignKey(
        "people.Place",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("quarantine site"),
    )
    to_household = models.ForeignKey(
        "geo.Household",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("home household"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    # The record another module made the transfer for (a response bundle, a quarantine stay).
    source = models.CharField(_("requested by"), max_length=20, blank=True, default="")
    source_id = models.BigIntegerField(_("their record"), null=True, blank=True)
    plate = models.CharField(_("vehicle plate"), max_length=8, blank=True, default="")
    escort = models.CharField(_("escort"), max_length=100, blank=True, default="")
    planned_at = models.DateTimeField(_("planned at"))
    departed_at = models.DateTimeField(_("departed at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PLANNED
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("why cancelled"), max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    objects = TransferQuerySet.as_manager()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-planned_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=State.values), name="transfer_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=Reason.values), name="transfer_reason_valid"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="transfer_has_name"),
            models.CheckConstraint(
                condition=Q(resident__isnull=False) | ~Q(doc_number=""),
                name="transfer_identified",
            ),
            models.CheckConstraint(
                condition=Q(from_household__isnull=False) | Q(from_place__isnull=False),
                name="transfer_has_from",
            ),
            models.CheckConstraint(
                condition=Q(destination="hospital") & ~Q(to_hospital="")
                | Q(destination="quarantine", to_place__isnull=False)
                | Q(destination="home", to_household__isnull=False),
                name="transfer_has_to",
            ),
            models.CheckConstraint(
                condition=Q(state="planned", departed_at__isnull=True, arrived_at__isnull=True)
                | Q(state="on_the_way", departed_at__isnull=False, arrived_at__isnull=True)
                | Q(state="arrived", departed_at__isnull=False, arrived_at__isnull=False)
                | Q(state="cancelled", arrived_at__isnull=True, cancelled_at__isnull=False)
                & ~Q(cancel_reason=""),
                name="transfer_times_follow_state",
            ),
            models.CheckConstraint(
                condition=Q(arrived_at__isnull=True) | Q(arrived_at__gte=F("departed_at")),
                name="transfer_arrived_after_departed",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "planned_at"], name="transfer_state_planned"),
            models.Index(fields=["source", "source_id"], name="transfer_source"),
            models.Index(fields=["arrived_at"], name="transfer_arrived_at"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def to_name(self) -> str:
        if self.destination == Destination.HOSPITAL:
            return self.to_hospital
        if self.destination == Destination.QUARANTINE:
            return self.to_place.name if self.to_place_id else ""
        return str(Destination.HOME.label)
