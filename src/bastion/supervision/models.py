"""Supervision and rectification (督查 → 取证 → 反馈 → 整改 → 回头看): teams of inspectors visit
places (people.mobilization `Place`: sampling sites, checkpoints, guard points) and buildings,
planned or unannounced, and go through the checklist of that kind of place; each failed item
is a `Finding` with its severity and evidence photos, and becomes a rectification task for the
person responsible (the place's chief, the building's chief, the grid chief) with a deadline.
The responsible person reports the fix with a photo; an inspector (never the one who fixed it)
re-checks and closes or reopens it. A finding on the same checklist item of the same place as
an earlier one records that earlier one (`repeat_of`): repeated failures, for accountability.
Daily patrols (定期巡查): one short checklist per building per day by its chief.

Every row is `Located` on the inspected place's node, so the scope, the overdue list up the
tree and the ledger per node are GROUP BYs on the ancestor columns. Overdue is not stored: an
open or reopened finding past `due_at`, read from the clock."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bastion.core.models import Located
from bastion.people.mobilization.models import Place, PlaceKind

BUILDING = "building"


class TargetKind(models.TextChoices):
    """What can be inspected: each kind of place on duty, and a building."""

    GUARD_POINT = PlaceKind.GUARD_POINT.value, PlaceKind.GUARD_POINT.label
    CHECKPOINT = PlaceKind.CHECKPOINT.value, PlaceKind.CHECKPOINT.label
    SAMPLING_SITE = PlaceKind.SAMPLING_SITE.value, PlaceKind.SAMPLING_SITE.label
    QUARANTINE_SITE = PlaceKind.QUARANTINE_SITE.value, PlaceKind.QUARANTINE_SITE.label
    BUILDING = BUILDING, _("Building")


class Mode(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("inspection", "Planned")
    UNANNOUNCED = "unannounced", _("Unannounced")


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


class Status(models.TextChoices):
    OPEN = "open", pgettext_lazy("finding", "To rectify")
    FIXED = "fixed", _("Fix reported")
    CLOSED = "closed", pgettext_lazy("finding", "Closed")


class SupervisionTeam(Located):
    """An inspection team (督查组) set up by a node's command; it inspects in that subtree."""

    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    formed_on = models.DateField(_("formed on"))
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="supervision_team_has_name"),
            models.UniqueConstraint(fields=["node", "name"], name="supervision_team_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Member(Located):
    """A person in a team (located as the team); the leader leads the inspections."""

    team = models.ForeignKey(SupervisionTeam, models.CASCADE, related_name="members")
    person = models.ForeignKey("people.Person", models.PROTECT, related_name="+")
    leader = models.BooleanField(_("leader"), default=False)

    class Meta:
        ordering = ["-leader", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["team", "person"], name="supervision_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.team_id}"


class ChecklistItem(Located):
    """One line of the checklist of a kind of place, kept by a node's command (editable:
    an item retired stays for the findings that name it). `evidence_required`: a finding on
    it is refused without a photo."""

    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+")
    kind = models.CharField(_("kind of place"), max_length=20, choices=TargetKind.choices)
    text = models.CharField(_("item"), max_length=200)
    evidence_required = models.BooleanField(_("photo required"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["kind", "position", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="checklist_item_has_text"),
            models.CheckConstraint(
                condition=Q(kind__in=TargetKind.values), name="checklist_item_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.text


class Inspection(Located):
    """One visit of a team to a place or a building (exactly one of the two), located there."""

    team = models.ForeignKey(SupervisionTeam, models.PROTECT, related_name="inspections")
    place = models.ForeignKey(Place, models.PROTECT, null=True, blank=True, related_name="+")
    # not `building`: that is the ancestor column every located row has
    target_building = models.ForeignKey(
        "geo.Node", models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind of place"), max_length=20, choices=TargetKind.choices)
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices, default=Mode.PLANNED)
    inspected_at = models.DateTimeField(_("inspected at"))
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True, default="")
    items_checked = models.PositiveSmallIntegerField(default=0)
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-inspected_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(place__isnull=True, target_building__isnull=False)
                | Q(place__isnull=False, target_building__isnull=True),
                name="inspection_one_target",
            ),
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="inspection_mode"),
            models.CheckConstraint(
                condition=Q(kind__in=TargetKind.values), name="inspection_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.place_id or self.target_building_id} {self.inspected_at:%Y-%m-%d}"
        )

    @property
    def target_name(self) -> str:
        return self.place.name if self.place_id else self.target_building.name


class Finding(Located):
    """A failed checklist item (or a free-text problem) found by an inspection: the
    rectification task of `responsible`, due at `due_at`. Open → fix reported → closed by a
    re-check, or reopened (back to open, `reopened` counted) with a new deadline."""

    inspection = models.ForeignKey(Inspection, models.CASCADE, related_name="findings")
    item = models.ForeignKey(
        ChecklistItem, models.PROTECT, null=True, blank=True, related_name="findings"
    )
    # the target again, so that repeats and the ledger never join through the inspection
    place = models.ForeignKey(Place, models.PROTECT, null=True, blank=True, related_name="+")
    # not `building`: that is the ancestor column every located row has
    target_building = models.ForeignKey(
        "geo.Node", models.PROTECT, null=True, blank=True, related_name="+"
    )
    text = models.CharField(_("problem"), max_length=500)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    responsible = models.ForeignKey(
        "people.Person", models.PROTECT, related_name="+", verbose_name=_("responsible")
    )
    responsible_as = models.CharField(max_length=20)  # point_chief, building_chief, grid_chief
    found_at = models.DateTimeField(_("found at"))
    due_at = models.DateTimeField(_("rectify by"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    fixed_at = models.DateTimeField(_("fix reported at"), null=True, blank=True)
    fixed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    fix_note = models.CharField(_("what was done"), max_length=500, blank=True, default="")
    rechecked_at = models.DateTimeField(_("re-checked at"), null=True, blank=True)
    rechecked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recheck_note = models.CharField(_("re-check note"), max_length=500, blank=True, default="")
    reopened = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    repeat_of = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="repeats"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values), name="finding_severity_valid"
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="finding_status"),
            models.CheckConstraint(condition=~Q(text=""), name="finding_has_text"),
            models.CheckConstraint(condition=Q(due_at__gt=F("found_at")), name="finding_due_later"),
            models.CheckConstraint(
                condition=Q(status="open") | Q(fixed_at__isnull=False),
                name="finding_fixed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(rechecked_at__isnull=False),
                name="finding_closed_rechecked",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="finding_status_due"),
            models.Index(fields=["place", "item"], name="finding_place_item"),
            models.Index(fields=["target_building", "item"], name="finding_building_item"),
            models.Index(fields=["responsible", "status"], name="finding_responsible"),
        ]

    def __str__(self) -> str:
        return self.text

    def overdue(self, now) -> bool:
        return self.status == Status.OPEN and self.due_at <= now


class PhotoKind(models.TextChoices):
    EVIDENCE = "evidence", _("Evidence")
    FIX = "fix", _("Fix")


def photo_path(instance: "Photo", filename: str) -> str:
    """Never the sender's name: a random one under the month, the extension from the content."""
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}.get(
        instance.content_type, "bin"
    )
    return f"supervision/{instance.uploaded_at:%Y/%m}/{uuid.uuid4().hex}.{ext}"


class Photo(Located):
    """An evidence photo of a finding, or a photo of its fix (metadata stripped before it is
    stored through Django's configured storage; served only through a scoped view)."""

    finding = models.ForeignKey(Finding, models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=10, choices=PhotoKind.choices)
    file = models.FileField(upload_to=photo_path, max_length=200)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PhotoKind.values), name="photo_kind"),
        ]


class Patrol(Located):
    """A building's daily patrol (定期巡查) by its chief: the building's short checklist gone
    through once a day; `failed` lists the ids of the items that failed."""

    building = models.ForeignKey("geo.Node", models.PROTECT, related_name="+")
    day = models.DateField(_("day"))
    by = models.ForeignKey("people.Person", models.PROTECT, related_name="+")
    done_at = models.DateTimeField(_("done at"))
    failed = models.JSONField(default=list, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True, default="")
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-day", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["building", "day"], name="patrol_once_a_day"),
        ]
