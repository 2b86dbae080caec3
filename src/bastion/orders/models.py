"""Orders down the hierarchy (闻令而动): a commander's order to a part of the tree and to
roles on it, one `Recipient` row per person it reached (resolved from the current posts once,
when it is issued), each with its acknowledgement, its report of the work done, and whom it
escalates to when it is not acknowledged in time (the chief of the level above).

An order is `Located` on the node it was issued to, so the command of that area sees it (and
the chiefs below see it from below); a recipient row is located on the recipient's post, so
the board rolls up by community and grid with one GROUP BY, and a grid chief sees the rows of
their grid. Escalation is not stored as a state: a row is escalated when it is unacknowledged
past `ack_by`, read from the clock; `escalated_at` only records that the notice to the level
above went out (once)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from bastion.core.models import Located
from bastion.people.mobilization.models import Team
from bastion.people.models import PostRole


class Priority(models.TextChoices):
    FLASH = "flash", _("Flash")
    URGENT = "urgent", _("Urgent")
    ROUTINE = "routine", _("Routine")


# The roles an order can go to besides the posts of `people`: the members of one team.
TEAM = "team"


class OrderTemplate(Located):
    """A recurring order (the letter to party members, the sealed-building checklist), kept
    by a node's command; issuing from it fills the form."""

    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=60)
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("text"), blank=True)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.ROUTINE
    )
    roles = models.JSONField(_("to"), default=list, blank=True)
    ack_minutes = models.PositiveIntegerField(_("minutes to acknowledge"), default=30)
    complete_hours = models.PositiveIntegerField(_("hours to complete"), default=24)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["node", "name"], name="order_template_unique_name"),
            models.CheckConstraint(condition=~Q(title=""), name="order_template_has_title"),
            models.CheckConstraint(
                condition=Q(ack_minutes__gte=1), name="order_template_ack_minutes"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Order(Located):
    node = models.ForeignKey(
        "geo.Node", models.PROTECT, related_name="+", verbose_name=_("issued to")
    )
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("text"), blank=True)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.ROUTINE
    )
    roles = models.JSONField(_("to"), default=list, blank=True)  # post roles, or "team"
    team = models.ForeignKey(Team, models.PROTECT, null=True, blank=True, related_name="+")
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ack_by = models.DateTimeField(_("acknowledge by"))
    due_at = models.DateTimeField(_("complete by"))
    template = models.ForeignKey(
        OrderTemplate, models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    # Where it came from: a meeting's decision ("requests.request", id): one order each.
    source_type = models.CharField(max_length=60, blank=True)
    source_id = models.BigIntegerField(null=True, blank=True)
    recipient_count = models.PositiveIntegerField(default=0)
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="order_has_title"),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values), name="order_priority_valid"
            ),
            models.CheckConstraint(condition=Q(ack_by__gt=F("issued_at")), name="order_ack_later"),
            models.CheckConstraint(
                condition=Q(due_at__gte=F("ack_by")), name="order_due_after_ack"
            ),
            models.UniqueConstraint(
                fields=["source_type", "source_id"],
                condition=Q(source_id__isnull=False),
                name="order_once_per_source",
            ),
        ]

    def __str__(self) -> str:
        return self.title


def attachment_path(instance: "Attachment", filename: str) -> str:
    """Never the uploader's path: a random name under the month, keeping the extension."""
    ext = filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else "bin"
    ext = "".join(c for c in ext if c.isalnum()) or "bin"
    return f"orders/{instance.order.issued_at:%Y/%m}/{uuid.uuid4().hex}.{ext}"


class Attachment(models.Model):
    """A file sent with an order (stored through Django's configured storage, served only
    through a scoped view)."""

    order = models.ForeignKey(Order, models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    name = models.CharField(_("name"), max_length=120)
    size = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


def photo_path(instance: "Recipient", filename: str) -> str:
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}.get(
        instance.done_photo_type, "bin"
    )
    return f"orders/done/{instance.done_at:%Y/%m}/{uuid.uuid4().hex}.{ext}"


class Recipient(Located):
    """One person an order reached (as the holder of a post, or a team member), located on
    the post's node; their acknowledgement and report; whom it escalates to."""

    order = models.ForeignKey(Order, models.CASCADE, related_name="recipients")
    person = models.ForeignKey("people.Person", models.PROTECT, related_name="+")
    post = models.ForeignKey(
        "people.Post", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    role = models.CharField(_("as"), max_length=20)
    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+")
    above = models.ForeignKey(
        "people.Person", models.PROTECT, null=True, blank=True, related_name="+"
    )
    above_role = models.CharField(max_length=20, blank=True, default="")
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    ack_client_id = models.UUIDField(null=True, blank=True, unique=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_note = models.CharField(_("note"), max_length=500, blank=True, default="")
    done_photo = models.FileField(upload_to=photo_path, max_length=200, blank=True, default="")
    done_photo_type = models.CharField(max_length=20, blank=True, default="")
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "person"], name="order_recipient_once"),
            models.CheckConstraint(
                condition=Q(done_at__isnull=True) | Q(acknowledged_at__isnull=False),
                name="order_recipient_done_after_ack",
            ),
            models.CheckConstraint(
                condition=Q(done_at__isnull=True) | Q(done_at__gte=F("acknowledged_at")),
                name="order_recipient_done_not_before_ack",
            ),
        ]
        indexes = [
            models.Index(fields=["order", "acknowledged_at"], name="order_recipient_ack"),
            models.Index(fields=["person", "order"], name="order_recipient_person"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.person_id}"

    @property
    def role_label(self) -> str:
        """As what it reached them: the post's role, or a team's member."""
        if self.role == TEAM:
            return str(_("Members of a team"))
        return str(PostRole(self.role).label) if self.role in PostRole.values else self.role
