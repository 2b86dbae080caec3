"""Residents' requests (two tracks), the issue-talk meeting, errands and the household link.

Every row is `Located` (ancestor ids copied on), so scoping and counting is one indexed column.
The legal moves between states live in `requests.services`; the database keeps the invariants
that must hold whatever wrote the row (a closed request has a result, a rating is 1..5, a
request is reopened at most once, an errand delivered has its proof).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bastion.core.models import Located
from bastion.geo.models import Household, Node, Resident
from bastion.people.models import Person


class Channel(models.TextChoices):
    WALK_IN = "walk_in", pgettext_lazy("channel", "Walk-in")
    PHONE = "phone", _("Phone")
    CHAT_GROUP = "chat_group", _("Chat group")
    QUESTIONNAIRE = "questionnaire", _("Questionnaire")
    GRID_CHIEF = "grid_chief", _("Grid chief")
    PARTY_HOUSEHOLD = "party_household", _("Party-member household")
    RESIDENT_PAGE = "resident_page", _("Resident's page")


class Category(models.TextChoices):
    DRAINAGE = "drainage", _("Drains and sewage")
    WATER = "water", _("Water supply")
    POWER = "power", _("Power")
    HEATING = "heating", _("Heating and gas")
    MEDICINE = "medicine", _("Medicine and medical care")
    SUPPLIES = "supplies", _("Food and daily supplies")
    SANITATION = "sanitation", _("Rubbish and sanitation")
    REPAIRS = "repairs", _("Repairs and property")
    EPIDEMIC = "epidemic", _("Epidemic measures")
    NEIGHBOURS = "neighbours", _("Neighbours and disputes")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Can wait")


class Track(models.TextChoices):
    HANDLE_NOW = "handle_now", _("Handle now")
    CONSULT = "consult", _("Consult and assign")


class Status(models.TextChoices):
    NEW = "new", _("New, to triage")
    WAITING = "waiting", _("Waiting to be claimed")
    CLAIMED = "claimed", _("Claimed")
    ON_AGENDA = "on_agenda", _("On the meeting agenda")
    ASSIGNED = "assigned", _("Assigned")
    DONE = "done", pgettext_lazy("request", "Done")
    REPORTED = "reported", _("Reported back")
    CLOSED = "closed", pgettext_lazy("request", "Closed")


OPEN_STATUSES = [s.value for s in Status if s != Status.CLOSED]
HANDLE_NOW_STATUSES = [Status.WAITING.value, Status.CLAIMED.value]
CONSULT_STATUSES = [Status.ON_AGENDA.value, Status.ASSIGNED.value, Status.REPORTED.value]
RESULT_STATUSES = [Status.DONE.value, Status.REPORTED.value, Status.CLOSED.value]


class Request(Located):
    """A problem raised by (or for) a resident: where, what, how urgent, and where it stands."""

    household = models.ForeignKey(
        Household,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("household"),
    )
    node = models.ForeignKey(Node, models.PROTECT, related_name="+", verbose_name=_("place"))
    raised_by = models.ForeignKey(
        Resident,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("raised by"),
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=11, blank=True)

    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NEW
    )
    track = models.CharField(_("track"), max_length=12, choices=Track.choices, blank=True)
    created_at = models.DateTimeField(_("collected at"), db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Handle-now: claimed by a login (its person's name where it has one).
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("claimed by"),
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Consult-and-assign: the meeting whose agenda holds it, who took it there and by when.
    meeting = models.ForeignKey(
        "requests.Meeting",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="agenda",
        verbose_name=_("meeting"),
    )
    assignee = models.CharField(_("taken by"), max_length=100, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    # The result (both tracks), and for consult-and-assign the report-back at a later meeting.
    result = models.TextField(_("result"), blank=True)
    done_at = models.DateTimeField(null=True, blank=True, db_index=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    report_meeting = models.ForeignKey(
        "requests.Meeting",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="report_backs",
        verbose_name=_("reported at meeting"),
    )
    report_note = models.TextField(_("report-back"), blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The resident's rating, 1 (bad) to 5 (very satisfied); reopening once, with a reason.
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.CharField(_("comment"), max_length=300, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    reopen_reason = models.TextField(_("reason for reopening"), blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="request_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(track__in=["", *Track.values]), name="request_track_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="request_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(category__in=Category.values), name="request_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(urgency__in=Urgency.values), name="request_urgency_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=RESULT_STATUSES) | ~Q(result=""),
                name="request_closed_has_result",
            ),
            models.CheckConstraint(
                condition=Q(status=Status.NEW) | ~Q(track=""), name="request_triaged_has_track"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=HANDLE_NOW_STATUSES) | Q(track=Track.HANDLE_NOW),
                name="request_handle_now_states",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=CONSULT_STATUSES) | Q(track=Track.CONSULT),
                name="request_consult_states",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.CLAIMED) | Q(claimed_at__isnull=False),
                name="request_claimed_has_claim",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.ASSIGNED) | (~Q(assignee="") & Q(due_on__isnull=False)),
                name="request_assigned_has_taker",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="request_rating_range",
            ),
            models.CheckConstraint(condition=Q(reopen_count__lte=1), name="request_reopened_once"),
        ]
        indexes = [
            models.Index(fields=["grid", "status"]),
            models.Index(fields=["community", "status"]),
            models.Index(fields=["household", "created_at"]),
            models.Index(fields=["status", "track", "triaged_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status != Status.CLOSED

    @property
    def can_reopen(self) -> bool:
        return self.status in RESULT_STATUSES and self.reopen_count == 0


class PhotoKind(models.TextChoices):
    REPORT = "report", _("With the request")
    EVIDENCE = "evidence", _("Evidence of the work")
    DELIVERY = "delivery", _("Proof of delivery")


def photo_path(instance: "Photo", filename: str) -> str:
    """Never the uploader's file name: a random one, under the month it came in."""
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[instance.content_type]
    return f"requests/{instance.uploaded_at:%Y/%m}/{uuid.uuid4().hex}.{ext}"


class Photo(Located):
    """A photo of a request (the problem, or evidence of the work) or of an errand's delivery.
    Stored under MEDIA_ROOT and served only through a scoped view (or the household's link)."""

    request = models.ForeignKey(
        Request, models.CASCADE, null=True, blank=True, related_name="photos"
    )
    errand = models.ForeignKey(
        "requests.Errand", models.CASCADE, null=True, blank=True, related_name="photos"
    )
    kind = models.CharField(max_length=10, choices=PhotoKind.choices)
    file = models.FileField(upload_to=photo_path, max_length=200)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(request__isnull=False, errand__isnull=True)
                | Q(request__isnull=True, errand__isnull=False),
                name="photo_of_one_thing",
            ),
            models.CheckConstraint(condition=Q(kind__in=PhotoKind.values), name="photo_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.file.name


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", pgettext_lazy("meeting", "Held")


class Meeting(Located):
    """A community's issue-talk meeting (usually at the monthly party day): its agenda is the
    consult-and-assign requests on it; results of earlier items are reported back here."""

    node = models.ForeignKey(Node, models.PROTECT, related_name="+", verbose_name=_("community"))
    title = models.CharField(_("title"), max_length=120)
    starts_at = models.DateTimeField(_("date and time"), db_index=True)
    place = models.CharField(_("place"), max_length=120, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED
    )
    chair = models.CharField(_("chaired by"), max_length=50, blank=True)
    recorder = models.CharField(_("minutes taken by"), max_length=50, blank=True)
    notes = models.TextField(_("minutes"), blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MeetingStatus.values), name="meeting_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(community__isnull=False), name="meeting_in_community"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class AttendeeCategory(models.TextChoices):
    COMMITTEE = "committee", _("Community committee")
    PARTY = "party", _("Party members")
    PROPERTY = "property", _("Property company")
    OWNERS = "owners", _("Owners' committee")
    AREA_UNITS = "area_units", _("Units in the area")
    PART_TIME = "part_time", _("Part-time members")
    RESIDENTS = "residents", _("Resident representatives")


class Attendee(models.Model):
    meeting = models.ForeignKey(Meeting, models.CASCADE, related_name="attendees")
    category = models.CharField(_("category"), max_length=12, choices=AttendeeCategory.choices)
    name = models.CharField(_("name"), max_length=50)
    organisation = models.CharField(_("organisation"), max_length=100, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=AttendeeCategory.values), name="attendee_category_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ErrandUrgency(models.TextChoices):
    MEDICINE = "medicine", _("Medicine")
    URGENT = "urgent", _("Urgent")
    NORMAL = "normal", _("Normal")


# Medicine first: the order of the board and of every courier's list.
PRIORITY = {ErrandUrgency.MEDICINE: 0, ErrandUrgency.URGENT: 1, ErrandUrgency.NORMAL: 2}


class ErrandStatus(models.TextChoices):
    ORDERED = "ordered", _("Ordered")
    ACCEPTED = "accepted", _("Accepted")
    ASSIGNED = "assigned", _("Courier assigned")
    PICKED_UP = "picked_up", _("Picked up")
    DELIVERED = "delivered", _("Delivered")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")


ERRAND_OPEN = [
    ErrandStatus.ORDERED.value,
    ErrandStatus.ACCEPTED.value,
    ErrandStatus.ASSIGNED.value,
    ErrandStatus.PICKED_UP.value,
]


class Proof(models.TextChoices):
    PHOTO = "photo", _("Photo")
    CODE = "code", _("Resident's code")


class Errand(Located):
    """A household's order: bought, picked up and delivered to its door (or, for a sealed
    building, to the door of its unit), then confirmed by the household."""

    household = models.ForeignKey(
        Household, models.PROTECT, related_name="+", verbose_name=_("household")
    )
    raised_by = models.ForeignKey(
        Resident, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=ErrandUrgency.choices)
    priority = models.PositiveSmallIntegerField()
    note = models.CharField(_("note"), max_length=300, blank=True)
    payment_note = models.CharField(_("payment"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ErrandStatus.choices, default=ErrandStatus.ORDERED
    )
    to_unit_door = models.BooleanField(_("deliver to the unit door"), default=False)
    # Shown on the household's page; the courier types it in as proof of delivery.
    delivery_code = models.CharField(max_length=6)
    courier = models.ForeignKey(
        Person,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="errands",
        verbose_name=_("courier"),
    )
    created_at = models.DateTimeField(_("ordered at"), db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True, db_index=True)
    proof = models.CharField(_("proof"), max_length=8, choices=Proof.choices, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("reason"), max_length=200, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.CharField(_("comment"), max_length=300, blank=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ErrandStatus.values), name="errand_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(urgency__in=ErrandUrgency.values), name="errand_urgency_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["assigned", "picked_up", "delivered", "confirmed"])
                | Q(courier__isnull=False),
                name="errand_courier_when_assigned",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["delivered", "confirmed"]) | ~Q(proof=""),
                name="errand_delivered_has_proof",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""),
                name="errand_cancel_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="errand_rating_range",
            ),
            models.CheckConstraint(
                condition=Q(household__isnull=False, unit__isnull=False), name="errand_on_household"
            ),
        ]
        indexes = [
            models.Index(fields=["grid", "status", "priority"]),
            models.Index(fields=["courier", "status"]),
            models.Index(fields=["household", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in ERRAND_OPEN


class ErrandItem(models.Model):
    errand = models.ForeignKey(Errand, models.CASCADE, related_name="items")
    name = models.CharField(_("item"), max_length=100)
    quantity = models.CharField(_("quantity"), max_length=30, blank=True)

    def __str__(self) -> str:
        return f"{self.name} {self.quantity}".strip()


class HouseholdLink(Located):
    """A household's secret link to its own page. The token is not stored: it is an HMAC of
    the row's id and a random nonce under the site's secret key, so a printed QR code can be
    printed again, a database copy alone opens nothing, and revoking ends it for good."""

    household = models.ForeignKey(Household, models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=32)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(revoked_at__isnull=True),
                name="household_link_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"link {self.pk} of household {self.household_id}"

    def sees(self, row) -> bool:
        """A household's link sees its own household's rows (`core.idempotency`'s caller)."""
        return getattr(row, "household_id", None) == self.household_id


class Submission(models.Model):
    """A write a device may retry (a courier's step, a household's rating), keyed by the id
    the device made: a retry finds its row here and changes nothing."""

    client_id = models.UUIDField(unique=True)
    action = models.CharField(max_length=40)
    actor = models.CharField(max_length=40)  # "user:<id>" or "link:<id>": who may replay it
    object_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"
