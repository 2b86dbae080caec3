"""Truck drivers in a closed loop (闭环): a person let through a checkpoint under escort is
handed to a destination with a pass code; the destination confirms the arrival. A pass is
located on its destination's node, so the destination's community finds and confirms it
through the scope; the checkpoint's board lists its own passes by place."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from bastion.core.models import Located

# Printable and read aloud without doubt: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6


class LoopPass(Located):
    occupant = models.OneToOneField(
        "checkpoints.Occupant", models.CASCADE, related_name="loop_pass"
    )
    checkpoint = models.ForeignKey("people.Place", models.PROTECT, related_name="+")
    code = models.CharField(_("pass code"), max_length=CODE_LENGTH, unique=True)
    destination = models.ForeignKey(
        "geo.Node", models.PROTECT, related_name="+", verbose_name=_("destination")
    )
    address = models.CharField(_("address"), max_length=100)
    contact_name = models.CharField(_("contact"), max_length=50)
    contact_phone = models.CharField(_("contact's phone"), max_length=11)
    issued_at = models.DateTimeField(_("issued"))
    due_at = models.DateTimeField(_("to arrive by"))
    expires_at = models.DateTimeField(_("valid until"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    arrived_at = models.DateTimeField(_("arrived"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    client_id = models.UUIDField(unique=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_at__gt=F("issued_at")) & Q(expires_at__gte=F("due_at")),
                name="loop_pass_times",
            ),
            models.CheckConstraint(
                condition=Q(arrived_at__isnull=True) | Q(arrived_at__gte=F("issued_at")),
                name="loop_pass_arrived_after_issue",
            ),
            models.CheckConstraint(
                condition=~Q(address="") & ~Q(contact_name="") & ~Q(contact_phone=""),
                name="loop_pass_destination_named",
            ),
        ]
        indexes = [
            models.Index(fields=["checkpoint", "issued_at"], name="loop_pass_checkpoint_at"),
            models.Index(
                fields=["due_at"], condition=Q(arrived_at__isnull=True), name="loop_pass_waiting"
            ),
        ]

    def __str__(self) -> str:
        return self.code
