"""Logins' roles on the tree, API tokens, and the log of revealed personal data."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bastion.core.models import Located


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", _("City administrator")
    DISTRICT_COMMANDER = "district_commander", _("District commander")
    STREET_COMMANDER = "street_commander", _("Street commander")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    GRID_CHIEF = "grid_chief", _("Grid chief")
    BUILDING_CHIEF = "building_chief", _("Building chief")
    UNIT_CHIEF = "unit_chief", _("Unit chief")
    VOLUNTEER = "volunteer", _("Volunteer")


class RoleAssignment(models.Model):
    """A role held by a login on one node: it sees that node's subtree."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    node = models.ForeignKey("geo.Node", models.CASCADE, related_name="role_assignments")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "node"], name="role_unique"),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.node}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the API. Only its hash is stored; the raw token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} {self.label}"

    @classmethod
    def issue(cls, user, label: str = "") -> str:
        raw = "bst_" + secrets.token_urlsafe(32)
        cls.objects.create(user=user, key_hash=hash_token(raw), label=label)
        return raw


class RevealLog(Located):
    """Who saw whose full ID or phone number, and when. Located where the subject lives, so
    the admin's reveal log is scoped by one column like every other located table."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    subject_type = models.CharField(max_length=40)  # "resident" or "person"
    subject_id = models.BigIntegerField()
    subject_name = models.CharField(max_length=50)
    field = models.CharField(max_length=20)  # "id_number" or "phone"
    via = models.CharField(max_length=10, default="web")  # "web" or "api"

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"{self.user} → {self.subject_name} ({self.field})"

    @property
    def fields_shown(self) -> str:
        """The numbers shown, in words ("ID number、Mobile"): an export logs the numbers of
        one row in one entry ("id_number,phone")."""
        labels = [str(REVEALED_FIELD_LABELS.get(f, f)) for f in self.field.split(",") if f]
        return "、".join(dict.fromkeys(labels))

    @property
    def via_shown(self) -> str:
        return str(REVEAL_VIA_LABELS.get(self.via, self.via))


REVEALED_FIELD_LABELS = {
    "id_number": _("ID number"),
    "doc_number": _("Document number"),
    "phone": _("Mobile"),
    "from_phone": _("Mobile"),
    "to_phone": _("Mobile"),
    "contact_phone": _("Mobile"),
}

# Where a number was shown in full (`core.privacy.personal_data_reveal`'s `via`, the
# exports' "export", a search by more digits than the mask shows "search").
REVEAL_VIA_LABELS = {
    "web": pgettext_lazy("reveal via", "web page"),
    "api": pgettext_lazy("reveal via", "API"),
    "export": pgettext_lazy("reveal via", "Excel export"),
    "search": pgettext_lazy("reveal via", "search by number"),
}
