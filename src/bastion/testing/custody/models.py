"""Chain of custody: bags of closed tubes, transport boxes of sealed bags, hand-overs and the
lab's receipt."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bastion.core.models import Located
from bastion.testing.rounds.models import Round, Site, valid_choice
from bastion.testing.scans.models import Tube

# ------------------------------------------------------------------------ chain of custody
# Closed tubes are packed into bags at a site, sealed bags into boxes, boxes handed over
# (site → transport → lab) and received by the lab. Each step is a row or a column here, so a
# tube's trail is read from these tables; the invariants are constraints (see
# `testing.custody.services` for the rules that need a look at other rows).


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
            models.CheckConstraint(
                condition=valid_choice("status", BoxStatus), name="box_status_valid"
            ),
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
            models.CheckConstraint(
                condition=valid_choice("status", BagStatus), name="bag_status_valid"
            ),
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
            models.CheckConstraint(
                condition=valid_choice("leg", HandoverLeg), name="handover_leg_valid"
            ),
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
