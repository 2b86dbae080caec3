"""The jurisdiction tree, households, residents and command zones."""

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from bastion.core.levels import LEVEL_ORDER, Level, child_level
from bastion.core.models import Located
from bastion.core.scope import ScopedQuerySetMixin


class NodeQuerySet(ScopedQuerySetMixin, MP_NodeQuerySet):
    def at_level(self, level: str):
        return self.filter(level=level)


class NodeManager(MP_NodeManager):
    def get_queryset(self):
        return NodeQuerySet(self.model, using=self._db).order_by("path")

    def restrict(self, user, action: str = "view"):
        return self.get_queryset().restrict(user, action)


class Node(MP_Node, Located):
    """One node of the jurisdiction tree. Its own id sits in the column of its level."""

    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    code = models.CharField(_("code"), max_length=40, blank=True)
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)

    objects = NodeManager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(level__in=LEVEL_ORDER), name="node_level_valid"),
            models.CheckConstraint(
                condition=Q(floors__isnull=True) | Q(floors__gte=1, floors__lte=200),
                name="node_floors_range",
            ),
        ]
        indexes = [models.Index(fields=["level", "name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def child_level(self) -> str | None:
        return child_level(self.level)

    def children(self) -> NodeQuerySet:
        return Node.objects.filter(path__startswith=self.path, depth=self.depth + 1)

    def subtree(self) -> NodeQuerySet:
        """This node and all below it."""
        return Node.objects.filter(path__startswith=self.path)

    def ancestors(self) -> NodeQuerySet:
        paths = [self.path[:i] for i in range(self.steplen, len(self.path), self.steplen)]
        return Node.objects.filter(path__in=paths)


class Presence(models.TextChoices):
    HOME = "home", _("At home")
    AWAY = "away", _("Away")
    MOVED_OUT = "moved_out", _("Moved out")


class Relation(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    GRANDPARENT = "grandparent", _("Grandparent")
    SIBLING = "sibling", _("Sibling")
    OTHER = "other", _("Other")


class Household(Located):
    """A dwelling on a unit (stairwell): room number and floor."""

    room = models.CharField(_("room"), max_length=20)
    floor = models.SmallIntegerField(_("floor"))
    # Made by the device that created the row, so a retried create returns the same row.
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "room"], name="household_unique_room"),
            models.CheckConstraint(condition=Q(unit__isnull=False), name="household_on_unit"),
            models.CheckConstraint(
                condition=Q(floor__gte=-5, floor__lte=200), name="household_floor_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.room}" if self.unit_id else self.room


class DocKind(models.TextChoices):
    """The identity document a resident is known by (values as in `geo.identity`)."""

    ID_CARD = "id_card", _("Resident ID card")
    HMT_RESIDENCE = "hmt_residence", _("HK/Macao/Taiwan residence permit")
    PR_CARD = "pr_card", _("Foreigner's permanent residence card")
    PASSPORT_CN = "passport_cn", _("Chinese passport")
    PASSPORT = "passport", _("Foreign passport")
    HK_MACAO_PERMIT = "hk_macao_permit", _("Hong Kong/Macao travel permit")
    TAIWAN_PERMIT = "taiwan_permit", _("Taiwan travel permit")
    NONE = "none", _("No document (child under a guardian)")


def aged_cutoff(today: dt.date | None = None) -> dt.date:
    """Residents born on or before this date are aged 60 or more."""
    today = today or dt.date.today()
    try:
        return today.replace(year=today.year - 60)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 60, day=28)


class Resident(Located):
    household = models.ForeignKey(Household, models.PROTECT, related_name="residents")
    name = models.CharField(_("name"), max_length=50)
    # The resident ID card number (GB 11643); empty (NULL) for people known by another
    # document (`doc_kind`, `doc_number`) or, for children, by none (then `guardian` is set).
    id_number = models.CharField(_("ID number"), max_length=18, unique=True, null=True, blank=True)
    doc_kind = models.CharField(
        _("document kind"), max_length=16, choices=DocKind.choices, default=DocKind.ID_CARD
    )
    doc_number = models.CharField(_("document number"), max_length=18, blank=True, default="")
    guardian = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="wards",
        verbose_name=_("guardian"),
    )
    no_phone = models.BooleanField(_("has no phone"), default=False)
    registered_address = models.CharField(
        _("registered address (hukou)"),
        max_length=200,
        blank=True,
        default="",
        help_text=_("Blank when registered at the address they live at."),
    )
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=[("M", _("Male")), ("F", _("Female"))])
    phone = models.CharField(_("mobile"), max_length=11, blank=True)
    relation = models.CharField(
        _("relation to head"), max_length=12, choices=Relation.choices, default=Relation.HEAD
    )
    presence = models.CharField(
        _("presence"), max_length=10, choices=Presence.choices, default=Presence.HOME
    )
    immobile = models.BooleanField(_("immobile"), default=False)
    disabled = models.BooleanField(_("disabled"), default=False)
    chronic_illness = models.BooleanField(_("chronic illness"), default=False)
    pregnant = models.BooleanField(_("pregnant"), default=False)
    infant = models.BooleanField(_("infant"), default=False)
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(sex__in=["M", "F"]), name="resident_sex_valid"),
            models.CheckConstraint(
                condition=Q(presence__in=[p.value for p in Presence]),
                name="resident_presence_valid",
            ),
            models.CheckConstraint(
                condition=Q(relation__in=[r.value for r in Relation]),
                name="resident_relation_valid",
            ),
            models.CheckConstraint(
                condition=Q(phone="") | Q(phone__regex=r"^1[3-9][0-9]{9}$"),
                name="resident_phone_format",
            ),
            models.CheckConstraint(
                condition=Q(id_number__isnull=True) | Q(id_number__regex=r"^[0-9]{17}[0-9X]$"),
                name="resident_id_format",
            ),
            # The ID card number lives in `id_number`, other documents in `doc_number`, and a
            # child without a document has a guardian.
            models.CheckConstraint(
                condition=Q(doc_kind="id_card", id_number__isnull=False, doc_number="")
                | Q(doc_kind="none", id_number__isnull=True, doc_number="", guardian__isnull=False)
                | (
                    Q(doc_kind__in=[k.value for k in DocKind if k not in ("id_card", "none")])
                    & Q(id_number__isnull=True)
                    & ~Q(doc_number="")
                ),
                name="resident_document_shape",
            ),
            models.UniqueConstraint(
                fields=["doc_kind", "doc_number"],
                condition=~Q(doc_number=""),
                name="resident_document_unique",
            ),
            models.CheckConstraint(
                condition=Q(no_phone=False) | Q(phone=""), name="resident_no_phone_empty"
            ),
            models.CheckConstraint(condition=Q(unit__isnull=False), name="resident_on_unit"),
        ]
        indexes = [models.Index(fields=["name"]), models.Index(fields=["phone"])]

    def __str__(self) -> str:
        return self.name

    @property
    def document_number(self) -> str:
        """The number of the document the resident is known by ("" for none)."""
        return self.id_number or self.doc_number

    @property
    def registered_elsewhere(self) -> bool:
        return bool(self.registered_address)

    @property
    def aged(self) -> bool:
        return self.birth_date <= aged_cutoff()

    @property
    def age(self) -> int:
        today = dt.date.today()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


class ZoneKind(models.TextChoices):
    INDEPENDENT = "independent", _("Independent")
    JOINT = "joint", _("Joint")


class CommandZone(Located):
    """A named set of buildings inside one street, run by one zone command."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=ZoneKind.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["street", "name"], name="zone_unique_name"),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in ZoneKind]), name="zone_kind_valid"
            ),
            models.CheckConstraint(condition=Q(street__isnull=False), name="zone_in_street"),
        ]

    def __str__(self) -> str:
        return self.name


class ZoneBuilding(models.Model):
    """A building belongs to at most one command zone."""

    zone = models.ForeignKey(CommandZone, models.CASCADE, related_name="memberships")
    building = models.OneToOneField(Node, models.PROTECT, related_name="zone_membership")

    def __str__(self) -> str:
        return f"{self.zone_id}:{self.building_id}"
