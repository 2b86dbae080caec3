"""Import jobs: an uploaded ledger, validated as a whole, applied all-or-nothing."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bastion.core.models import Located


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    PREVIEW = "preview", _("Waiting for confirmation")
    DONE = "done", _("Imported")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")


FINISHED = (ImportStatus.DONE, ImportStatus.REJECTED, ImportStatus.FAILED)


class ImportMode(models.TextChoices):
    CREATE = "create", _("Add new residents")
    UPDATE = "update", _("Update registered residents (matched by ID number)")


class ImportPhase(models.TextChoices):
    WAITING = "", _("Waiting")
    READING = "reading", _("Reading the file")
    CHECKING = "checking", _("Checking rows")
    WRITING = "writing", _("Writing rows")


class ImportJob(Located):
    """One uploaded file. Located on the node it imports into, so it is scoped like its rows.
    The file's bytes are kept only until the job finishes (they hold personal data)."""

    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=20, default="residents")
    # create: every row a new resident. update: every row matched to a registered resident by
    # ID number; checked into `changes` (status preview), written only once confirmed.
    mode = models.CharField(max_length=10, choices=ImportMode.choices, default=ImportMode.CREATE)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    filename = models.CharField(max_length=200)
    content = models.BinaryField()
    language = models.CharField(max_length=10, blank=True)  # messages are written in it
    task_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    phase = models.CharField(
        max_length=10, choices=ImportPhase.choices, blank=True, default=ImportPhase.WAITING
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)  # rows checked so far
    imported_rows = models.PositiveIntegerField(default=0)  # rows written (final when done)
    created_households = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)  # [{"row": n, "field": f, "message": m}]
    # update mode: [{"row", "resident_id", "name", "changes": [{"field", "old", "new"}]}],
    # numbers masked: what the preview shows and what applying must find again
    changes = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ImportStatus]), name="importjob_status"
            ),
            models.CheckConstraint(
                condition=Q(phase__in=[p.value for p in ImportPhase]), name="importjob_phase"
            ),
            models.CheckConstraint(
                condition=Q(processed_rows__lte=models.F("total_rows")) | Q(total_rows=0),
                name="importjob_progress_bounded",
            ),
            models.CheckConstraint(
                condition=Q(imported_rows__lte=models.F("total_rows")),
                name="importjob_imported_bounded",
            ),
            models.CheckConstraint(condition=Q(kind__in=["residents"]), name="importjob_kind"),
            models.CheckConstraint(
                condition=Q(mode__in=[m.value for m in ImportMode]), name="importjob_mode"
            ),
        ]
        indexes = [models.Index(fields=["created_by", "created_at"])]

    def __str__(self) -> str:
        return f"{self.filename} → {self.node_id}"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def working(self) -> bool:
        """Queued or running: its page polls for progress."""
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def percent(self) -> int:
        """Progress for the bar: checking is the first 90 %, writing the rest (the write is one
        transaction, so other connections see it only when it commits)."""
        if self.status == ImportStatus.DONE:
            return 100
        if not self.total_rows:
            return 0
        checked = 90 * self.processed_rows // self.total_rows
        written = 10 * self.imported_rows // self.total_rows
        return min(100, checked + written)
