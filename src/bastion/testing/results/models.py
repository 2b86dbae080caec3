"""Lab result imports and retests: what a positive pool asks of the people in it."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from bastion.core.models import Located
from bastion.testing.rounds.models import Round, valid_choice
from bastion.testing.scans.models import Result, Tube


class ResultImport(Located):
    """One batch of lab results (a file or an API call), all-or-nothing. Located at the
    round's node."""

    round = models.ForeignKey(Round, models.PROTECT, related_name="result_imports")
    filename = models.CharField(_("file"), max_length=200, blank=True)
    tubes = models.PositiveIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=10, default="web")
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-at", "-id"]


class Retest(Located):
    """A resident of a positive pool, to be sampled again in a single tube. Located at the
    resident. Done when `tube` is set; its result is the tube's."""

    round = models.ForeignKey(Round, models.PROTECT, related_name="retests")
    resident = models.ForeignKey("geo.Resident", models.PROTECT, related_name="+")
    source_tube = models.ForeignKey(Tube, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    tube = models.ForeignKey(Tube, models.PROTECT, null=True, blank=True, related_name="+")
    sampled_at = models.DateTimeField(null=True, blank=True)
    # Positive-pool response (testing.results.response): the retest tube's result when the lab
    # answers (an invalid one puts the retest back to due, `tube` cleared, result kept), and
    # the hold: the person stays where they are from the positive result until a negative
    # retest (`hold_until` null: in force).
    result = models.CharField(_("result"), max_length=8, choices=Result.choices, blank=True)
    resulted_at = models.DateTimeField(_("resulted at"), null=True, blank=True)
    hold_since = models.DateTimeField(_("staying in place since"), null=True, blank=True)
    hold_until = models.DateTimeField(_("staying in place until"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "resident"], name="retest_once"),
            models.CheckConstraint(
                condition=Q(tube__isnull=True, sampled_at__isnull=True)
                | Q(tube__isnull=False, sampled_at__isnull=False),
                name="retest_sampled_with_tube",
            ),
            models.CheckConstraint(
                condition=valid_choice("result", Result, blank=True), name="retest_result_valid"
            ),
            models.CheckConstraint(
                condition=Q(result="", resulted_at__isnull=True)
                | (~Q(result="") & Q(resulted_at__isnull=False)),
                name="retest_resulted_with_time",
            ),
            models.CheckConstraint(
                condition=Q(hold_until__isnull=True)
                | Q(hold_since__isnull=False, hold_until__gte=F("hold_since")),
                name="retest_hold_ends_after_start",
            ),
        ]


class RetestState(models.TextChoices):
    """Where a retest stands (derived: see `testing.results.response.with_state`)."""

    PENDING = "pending", _("Retest due")
    SAMPLED = "sampled", _("Sampled")
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    INVALID = "invalid", _("Invalid, due again")
