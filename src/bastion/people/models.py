"""Persons who do the work, their organisations, and the posts that bind them to nodes.
(Mobilization's tables are in `people.mobilization.models`, registered by the app config.)"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bastion.core.models import Located
from bastion.geo.identity import mask_mobile
from bastion.geo.models import CommandZone, Household


class PersonKind(models.TextChoices):
    CADRE = "cadre", _("Cadre")
    PARTY_MEMBER = "party_member", _("Party member")
    VOLUNTEER = "volunteer", _("Volunteer")
    MEDIC = "medic", _("Medic")
    POLICE = "police", _("Police")
    PROPERTY_STAFF = "property_staff", _("Property staff")
    RESIDENT = "resident", _("Resident")


class OrgKind(models.TextChoices):
    GOVERNMENT = "government", _("Government body")
    ENTERPRISE = "enterprise", _("Enterprise or institution")
    PROPERTY_COMPANY = "property_company", _("Property company")
    PARTY_ORG = "party_org", _("Party organisation")


class Organisation(Located):
    """An employer or a party organisation; a temporary one is bound to a node (or site)."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=OrgKind.choices)
    temporary = models.BooleanField(_("temporary"), default=False)
    site = models.CharField(_("site"), max_length=120, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name"], name="organisation_unique_name"),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in OrgKind]), name="organisation_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(temporary=False) | Q(kind="party_org"),
                name="organisation_only_party_temporary",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Person(Located):
    """Someone who works in the response. Located at their home household where known,
    else at the node they serve."""

    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=20, choices=PersonKind.choices)
    id_number = models.CharField(_("ID number"), max_length=18, null=True, blank=True, unique=True)
    phone = models.CharField(_("mobile"), max_length=11)
    party_member = models.BooleanField(_("party member"), default=False)
    employer = models.ForeignKey(
        Organisation,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("employer"),
    )
    home = models.ForeignKey(
        Household,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("home household"),
    )
    # A login links to at most one person.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="person"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in PersonKind]), name="person_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(phone__regex=r"^1[3-9][0-9]{9}$"), name="person_phone_format"
            ),
        ]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class PostRole(models.TextChoices):
    STREET_CHIEF = "street_chief", _("Street chief")
    LANE_CHIEF = "lane_chief", _("Lane chief")
    GRID_CHIEF = "grid_chief", _("Grid chief")
    BUILDING_CHIEF = "building_chief", _("Building chief")
    UNIT_CHIEF = "unit_chief", _("Unit chief")
    ZONE_COMMANDER = "zone_commander", _("Zone commander")
    DEPUTY_COMMANDER = "deputy_commander", _("Deputy zone commander")
    RESERVE = "reserve", _("Reserve staff")
    POLICE_LIAISON = "police_liaison", _("Police liaison")


# The chief every node of a level must have: the five-chief system.
CHIEF_OF_LEVEL = {
    "street": PostRole.STREET_CHIEF,
    "grid": PostRole.GRID_CHIEF,
    "building": PostRole.BUILDING_CHIEF,
    "unit": PostRole.UNIT_CHIEF,
}


ZONE_ROLES = [PostRole.ZONE_COMMANDER, PostRole.DEPUTY_COMMANDER]


# The chiefs whose mobile numbers the building notice prints (`people/building_notice.html`).
PUBLISHED_PHONE_ROLES = frozenset(CHIEF_OF_LEVEL.values())


def post_phone(post) -> str:
    """The mobile number shown with a post, the one rule for every page and API answer.

    In full for a current chief of the five-chief system (street, grid, building and unit
    chief): their numbers are public by design, printed on the building notice that is posted
    at every entrance (五长制公示) so that residents can call them, so masking them elsewhere
    hides nothing. Masked for everyone else (zone command, reserve, liaisons, the staff of a
    testing site, a chief whose post has ended), whose number is shown in full only through
    the logged reveal (`core.privacy.personal_data_reveal`)."""
    phone = post.person.phone or ""
    if isinstance(post, Post) and post.role in PUBLISHED_PHONE_ROLES and post.ended_on is None:
        return phone
    return mask_mobile(phone)


def phone_published(post) -> bool:
    """Whether `post_phone` shows this post's number in full."""
    return bool(post.person.phone) and post_phone(post) == post.person.phone


class Post(Located):
    """A role held by a person on a node (or a command zone). Ended posts stay for history."""

    person = models.ForeignKey(Person, models.PROTECT, related_name="posts")
    role = models.CharField(_("role"), max_length=20, choices=PostRole.choices)
    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="posts")
    zone = models.ForeignKey(
        CommandZone, models.PROTECT, null=True, blank=True, related_name="posts"
    )
    title = models.CharField(_("title"), max_length=60, blank=True)  # e.g. the lane's name
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in PostRole]), name="post_role_valid"
            ),
            models.UniqueConstraint(
                fields=["node", "role"],
                condition=Q(
                    ended_on__isnull=True, role__in=[r.value for r in CHIEF_OF_LEVEL.values()]
                ),
                name="post_one_chief_per_node",
            ),
            models.UniqueConstraint(
                fields=["zone", "role"],
                condition=Q(ended_on__isnull=True, role=PostRole.ZONE_COMMANDER),
                name="post_one_commander_per_zone",
            ),
            models.CheckConstraint(
                condition=Q(zone__isnull=False) | ~Q(role__in=[r.value for r in ZONE_ROLES]),
                name="post_zone_roles_have_zone",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="post_end_after_start",
            ),
        ]
        indexes = [models.Index(fields=["role", "ended_on"])]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.person} @ {self.node}"

    @property
    def shown_phone(self) -> str:
        return post_phone(self)

    @property
    def phone_published(self) -> bool:
        return phone_published(self)
