"""Control areas (封控区 / 管控区 / 防范区): a node of the tree — a community, grid, building or
unit — put under a control level from a moment until it is lifted.

One active area per node (a partial unique index); changing a node's level lifts the old row
and starts a new one, so the rows are the node's history. A change made by mistake is
reverted: the mistaken row is lifted and marked `reverted`, the row it replaced is in force
again. A resident's effective level is the strictest active level on any of their ancestors
(`incidents.queries.effective_levels`)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bastion.core.models import Located


class ControlLevel(models.TextChoices):
    SEALED = "sealed", pgettext_lazy("control level", "Sealed")
    CONTROLLED = "controlled", _("Controlled")
    PRECAUTION = "precaution", _("Precaution")


# What a level means for the people under it: said where they look (their household's page)
# and where the level is set (the confirmation).
WHAT_APPLIES = {
    ControlLevel.SEALED: _(
        "Stay at home. Sampling comes to your door; food and medicine are delivered."
    ),
    ControlLevel.CONTROLLED: _(
        "Stay inside the compound; no gatherings. Sampling at the compound's station."
    ),
    ControlLevel.PRECAUTION: _("Wear a mask, keep your distance, avoid gatherings."),
}

# Strictest first; a level's rank is its position here.
STRICTNESS = (ControlLevel.SEALED, ControlLevel.CONTROLLED, ControlLevel.PRECAUTION)
# The levels of the tree an area may be set on.
AREA_LEVELS = ("community", "grid", "building", "unit")


class ControlArea(Located):
    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+", verbose_name=_("area"))
    level = models.CharField(_("control level"), max_length=10, choices=ControlLevel.choices)
    since = models.DateTimeField(_("since"))
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)
    # Lifted by a revert: set by mistake, never meant to be in force.
    reverted = models.BooleanField(_("reverted"), default=False)

    class Meta:
        ordering = ["-since", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["node"],
                condition=Q(lifted_at__isnull=True),
                name="control_area_one_active_per_node",
            ),
            models.CheckConstraint(
                condition=Q(level__in=[c.value for c in ControlLevel]),
                name="control_area_level_valid",
            ),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True) | Q(lifted_at__gte=F("since")),
                name="control_area_lifted_after_since",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="control_area_has_reason"),
            models.CheckConstraint(
                condition=Q(reverted=False) | Q(lifted_at__isnull=False),
                name="control_area_reverted_is_lifted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.node} {self.get_level_display()}"

    @property
    def active(self) -> bool:
        return self.lifted_at is None
