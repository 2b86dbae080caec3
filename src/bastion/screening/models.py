"""Door-knock campaigns (each household's status, visits, findings per resident) and outside
call lists (their rows, callbacks, follow-ups).

High-volume rows (campaign households, visits, findings, call rows, callbacks, follow-ups) are
`Located`: they carry their ancestor ids, so they are scoped and counted by one column.

A campaign household's state is a pure function of the set of its visits, whatever order they
arrive in (phones sync late): reached beats away beats not reachable beats not yet, and the
first day of each is kept. So the state as of any past day is exact from the stored dates:
reached on day d ⇔ reached_on ≤ d; away ⇔ away_on ≤ d and not reached; not reachable ⇔
first_attempt_on ≤ d and neither. The daily figures rely on this.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bastion.core.models import Located

FEVER_FROM = 37.3  # °C: a temperature at or above this is fever


def _valid(field: str, choices: type[models.TextChoices], *, blank: bool = False) -> Q:
    values = [c.value for c in choices] + ([""] if blank else [])
    return Q(**{f"{field}__in": values})


class Channel(models.TextChoices):
    VISIT = "visit", _("Visit")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")


class Outcome(models.TextChoices):
    """What one attempt at a household gave."""

    REACHED = "reached", _("Reached")
    NOT_REACHABLE = "not_reachable", _("Not reachable")
    AWAY = "away", _("Away")


class HouseholdStatus(models.TextChoices):
    NOT_YET = "not_yet", _("Not yet")
    REACHED = "reached", _("Reached")
    NOT_REACHABLE = "not_reachable", _("Not reachable")
    AWAY = "away", _("Away")


# Cleared (已查清): reached, or found away. Counted through `screening.queries.cleared_q`.
CLEARED_STATUSES = (HouseholdStatus.REACHED, HouseholdStatus.AWAY)


# Which status wins when a household has visits of several outcomes (order-independent).
STATUS_RANK = {
    HouseholdStatus.NOT_YET: 0,
    HouseholdStatus.NOT_REACHABLE: 1,
    HouseholdStatus.AWAY: 2,
    HouseholdStatus.REACHED: 3,
}


class HealthCode(models.TextChoices):
    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


def _grid_column() -> models.ForeignKey:
    """The grid ancestor column of a table whose composite indexes start with it: the single
    column index would only slow down its inserts."""
    return models.ForeignKey(
        "geo.Node", models.PROTECT, related_name="+", null=True, db_index=False
    )


class Campaign(Located):
    """A door-knock action over one node's subtree for a period (both days included)."""

    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+", verbose_name=_("area"))
    name = models.CharField(_("name"), max_length=100)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="campaign_ends_after_start"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="campaign_has_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def is_active(self, day) -> bool:
        return self.starts_on <= day <= self.ends_on


class CampaignHousehold(Located):
    """One household's status in one campaign: made when the campaign opens, and for each
    household added to its area while it runs (`services.campaigns_include`)."""

    # Indexed by the unique (campaign, household) and (grid, campaign, status) below.
    campaign = models.ForeignKey(
        Campaign, models.PROTECT, related_name="households", db_index=False
    )
    grid = _grid_column()
    household = models.ForeignKey("geo.Household", models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=14, choices=HouseholdStatus.choices, default=HouseholdStatus.NOT_YET
    )
    channel = models.CharField(_("reached by"), max_length=5, choices=Channel.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    first_attempt_on = models.DateField(null=True, blank=True)
    reached_on = models.DateField(null=True, blank=True)
    away_on = models.DateField(null=True, blank=True)
    # The local day and time of the latest attempt: the day is what "left today" filters on.
    last_attempt_on = models.DateField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "household"], name="campaign_household_once"
            ),
            models.CheckConstraint(
                condition=_valid("status", HouseholdStatus), name="campaign_household_status_valid"
            ),
            models.CheckConstraint(
                condition=_valid("channel", Channel, blank=True),
                name="campaign_household_channel_valid",
            ),
            # Not yet ⇔ never attempted.
            models.CheckConstraint(
                condition=(
                    Q(
                        status=HouseholdStatus.NOT_YET,
                        attempts=0,
                        first_attempt_on__isnull=True,
                        last_attempt_on__isnull=True,
                    )
                    | (
                        ~Q(status=HouseholdStatus.NOT_YET)
                        & Q(
                            attempts__gte=1,
                            first_attempt_on__isnull=False,
                            last_attempt_on__isnull=False,
                            last_attempt_on__gte=F("first_attempt_on"),
                            last_attempt_at__isnull=False,
                        )
                    )
                ),
                name="campaign_household_attempts",
            ),
            # Reached ⇔ a reach day and a channel.
            models.CheckConstraint(
                condition=(
                    Q(status=HouseholdStatus.REACHED, reached_on__isnull=False)
                    & ~Q(channel="")
                    & Q(reached_on__gte=F("first_attempt_on"))
                )
                | (~Q(status=HouseholdStatus.REACHED) & Q(reached_on__isnull=True, channel="")),
                name="campaign_household_reached",
            ),
            # Away (now, or before being reached) ⇔ an away day.
            models.CheckConstraint(
                condition=Q(
                    away_on__isnull=True,
                    status__in=[HouseholdStatus.NOT_YET, HouseholdStatus.NOT_REACHABLE],
                )
                | Q(
                    status__in=[HouseholdStatus.AWAY, HouseholdStatus.REACHED],
                    away_on__isnull=False,
                    away_on__gte=F("first_attempt_on"),
                )
                | Q(status=HouseholdStatus.REACHED, away_on__isnull=True),
                name="campaign_household_away",
            ),
        ]
        indexes = [
            models.Index(fields=["grid", "campaign", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.household}"

    @property
    def cleared(self) -> bool:
        return self.status in CLEARED_STATUSES


class Visit(Located):
    """One attempt at a household: a knock, a call or a chat. Made by a device with its own id,
    so a retried submission finds the visit it already made."""

    client_id = models.UUIDField(unique=True)
    # Indexed by (campaign, household) and (grid, day) below.
    campaign = models.ForeignKey(Campaign, models.PROTECT, related_name="visits", db_index=False)
    grid = _grid_column()
    household = models.ForeignKey("geo.Household", models.PROTECT, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=14, choices=Outcome.choices)
    channel = models.CharField(_("channel"), max_length=5, choices=Channel.choices, blank=True)
    day = models.DateField(_("day"))
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=_valid("outcome", Outcome), name="visit_outcome_valid"
            ),
            models.CheckConstraint(
                condition=_valid("channel", Channel, blank=True), name="visit_channel_valid"
            ),
            models.CheckConstraint(
                condition=~Q(outcome=Outcome.REACHED) | ~Q(channel=""),
                name="visit_reached_has_channel",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "household"]),
            models.Index(fields=["grid", "day"]),
        ]

    def __str__(self) -> str:  # no query: the change log names many visits at once
        return f"{self.get_outcome_display()} {self.day}"


class Finding(Located):
    """What a visit found about one resident."""

    # Indexed by the unique (visit, resident) and (grid, day) below.
    visit = models.ForeignKey(Visit, models.PROTECT, related_name="findings", db_index=False)
    grid = _grid_column()
    campaign = models.ForeignKey(Campaign, models.PROTECT, related_name="+")
    resident = models.ForeignKey("geo.Resident", models.PROTECT, related_name="+")
    day = models.DateField(_("day"))
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    fever = models.BooleanField(_("fever"), default=False)
    cough = models.BooleanField(_("cough"), default=False)
    sore_throat = models.BooleanField(_("sore throat"), default=False)
    fatigue = models.BooleanField(_("fatigue"), default=False)
    taste_smell_loss = models.BooleanField(_("loss of taste or smell"), default=False)
    diarrhoea = models.BooleanField(_("diarrhoea"), default=False)
    other_symptoms = models.CharField(_("other symptoms"), max_length=200, blank=True)
    travel_place = models.CharField(_("travel in last 14 days: place"), max_length=100, blank=True)
    travel_date = models.DateField(_("travel date"), null=True, blank=True)
    health_code = models.CharField(
        _("health code"), max_length=6, choices=HealthCode.choices, blank=True
    )
    needs_medicine = models.BooleanField(_("needs medicine"), default=False)
    needs_help = models.BooleanField(_("needs help"), default=False)
    needs_note = models.CharField(_("what is needed"), max_length=200, blank=True)

    SYMPTOMS = ("fever", "cough", "sore_throat", "fatigue", "taste_smell_loss", "diarrhoea")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["visit", "resident"], name="finding_once_per_visit"),
            models.CheckConstraint(
                condition=Q(temperature__isnull=True) | Q(temperature__gte=34, temperature__lte=43),
                name="finding_temperature_range",
            ),
            models.CheckConstraint(
                condition=Q(temperature__isnull=True)
                | Q(temperature__lt=FEVER_FROM)
                | Q(fever=True),
                name="finding_high_temperature_is_fever",
            ),
            models.CheckConstraint(
                condition=Q(travel_place="", travel_date__isnull=True)
                | (~Q(travel_place="") & Q(travel_date__isnull=False, travel_date__lte=F("day"))),
                name="finding_travel_place_and_date",
            ),
            models.CheckConstraint(
                condition=_valid("health_code", HealthCode, blank=True),
                name="finding_health_code_valid",
            ),
        ]
        indexes = [models.Index(fields=["grid", "day"])]


class ListKind(models.TextChoices):
    RETURNEES = "returnees", _("Returnees")
    CLOSE_CONTACTS = "close_contacts", _("Close contacts")
    PHARMACY = "pharmacy", _("Pharmacy purchases")
    TRACING = "tracing", _("Contact tracing")


class DrugCategory(models.TextChoices):
    FEVER = "fever", _("Fever reducer")
    ANTIVIRAL = "antiviral", _("Antiviral")
    ANTIBIOTIC = "antibiotic", _("Antibiotic")


class CallList(Located):
    """A list that came from outside, imported into one node's area."""

    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+", verbose_name=_("area"))
    kind = models.CharField(_("kind"), max_length=14, choices=ListKind.choices)
    name = models.CharField(_("name"), max_length=100)
    filename = models.CharField(_("file"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=_valid("kind", ListKind), name="calllist_kind"),
            models.CheckConstraint(condition=~Q(name=""), name="calllist_has_name"),
        ]

    def __str__(self) -> str:
        return self.name


class RowStatus(models.TextChoices):
    MATCHED = "matched", _("Matched")
    AMBIGUOUS = "ambiguous", _("Ambiguous")
    UNMATCHED = "unmatched", _("Unmatched")
    OUTSIDE = "outside", _("Not in our area")


class MatchedBy(models.TextChoices):
    ID_NUMBER = "id_number", _("ID number")
    PHONE = "phone", _("Phone")
    NAME_ADDRESS = "name_address", _("Name and address")
    PERSON = "person", _("Picked by a person")


class CallRow(Located):
    """One row of a call list. Located at the matched resident's unit, so the resident's grid
    sees it; until matched it sits at the list's node, where staff resolve it."""

    call_list = models.ForeignKey(CallList, models.PROTECT, related_name="rows")
    row = models.PositiveIntegerField(_("row"))  # the spreadsheet row number
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("mobile"), max_length=11, blank=True)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    drug_category = models.CharField(
        _("drug category"), max_length=10, choices=DrugCategory.choices, blank=True
    )
    event_at = models.DateTimeField(_("time"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=100, blank=True)  # pharmacy, or came from
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=RowStatus.choices)
    matched_by = models.CharField(
        _("matched by"), max_length=12, choices=MatchedBy.choices, blank=True
    )
    resident = models.ForeignKey(
        "geo.Resident", models.PROTECT, null=True, blank=True, related_name="+"
    )
    candidates = models.JSONField(default=list, blank=True)  # resident ids when ambiguous
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["call_list", "row"]
        constraints = [
            models.UniqueConstraint(fields=["call_list", "row"], name="callrow_once"),
            models.CheckConstraint(
                condition=_valid("status", RowStatus), name="callrow_status_valid"
            ),
            models.CheckConstraint(
                condition=_valid("matched_by", MatchedBy, blank=True),
                name="callrow_matched_by_valid",
            ),
            models.CheckConstraint(
                condition=_valid("drug_category", DrugCategory, blank=True),
                name="callrow_drug_valid",
            ),
            models.CheckConstraint(
                condition=Q(status=RowStatus.MATCHED, resident__isnull=False) & ~Q(matched_by="")
                | ~Q(status=RowStatus.MATCHED) & Q(resident__isnull=True, matched_by=""),
                name="callrow_matched_has_resident",
            ),
            models.CheckConstraint(
                condition=~Q(matched_by=MatchedBy.PERSON) | Q(resolved_by__isnull=False),
                name="callrow_picked_by_someone",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="callrow_has_name"),
        ]
        indexes = [models.Index(fields=["call_list", "status"])]

    def __str__(self) -> str:
        return f"{self.call_list} #{self.row} {self.name}"


class CallbackStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("follow-up", "Open")
    DONE = "done", _("Done")


class Callback(Located):
    """A call to a matched resident, on the resident's grid."""

    call_row = models.OneToOneField(CallRow, models.PROTECT, related_name="callback")
    resident = models.ForeignKey("geo.Resident", models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=4, choices=CallbackStatus.choices, default=CallbackStatus.OPEN
    )
    created_on = models.DateField()
    done_on = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)
    drug_user = models.CharField(_("who used the drug"), max_length=50, blank=True)
    drug_used_on = models.DateField(_("used on"), null=True, blank=True)
    illness_history = models.CharField(_("illness history"), max_length=200, blank=True)
    travel_place = models.CharField(_("travel in last 14 days: place"), max_length=100, blank=True)
    travel_date = models.DateField(_("travel date"), null=True, blank=True)
    fever_now = models.BooleanField(_("fever now"), null=True)
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=_valid("status", CallbackStatus), name="callback_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    status=CallbackStatus.OPEN,
                    done_on__isnull=True,
                    done_at__isnull=True,
                    fever_now__isnull=True,
                )
                | Q(
                    status=CallbackStatus.DONE,
                    done_on__isnull=False,
                    done_on__gte=F("created_on"),
                    done_at__isnull=False,
                    fever_now__isnull=False,
                ),
                name="callback_done_has_outcome",
            ),
            models.CheckConstraint(
                condition=Q(temperature__isnull=True) | Q(temperature__gte=34, temperature__lte=43),
                name="callback_temperature_range",
            ),
            models.CheckConstraint(
                condition=Q(temperature__isnull=True)
                | Q(temperature__lt=FEVER_FROM)
                | Q(fever_now=True),
                name="callback_high_temperature_is_fever",
            ),
            models.CheckConstraint(
                condition=Q(travel_place="", travel_date__isnull=True)
                | (~Q(travel_place="") & Q(travel_date__isnull=False)),
                name="callback_travel_place_and_date",
            ),
        ]
        indexes = [models.Index(fields=["grid", "status"])]

    def __str__(self) -> str:
        return f"{self.call_row.name} ({self.get_status_display()})"


class FollowUpSource(models.TextChoices):
    VISIT = "visit", _("Door-knock finding")
    CALLBACK = "callback", _("Callback")


class FollowUp(Located):
    """A resident found with fever, to be followed up by the grid. At most one open per
    resident: a fever found again while one is open joins it."""

    resident = models.ForeignKey("geo.Resident", models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=8, choices=FollowUpSource.choices)
    finding = models.ForeignKey(Finding, models.PROTECT, null=True, blank=True, related_name="+")
    callback = models.ForeignKey(Callback, models.PROTECT, null=True, blank=True, related_name="+")
    opened_on = models.DateField(_("opened on"))
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)

    class Meta:
        ordering = ["closed_on", "-opened_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    source=FollowUpSource.VISIT, finding__isnull=False, callback__isnull=True
                )
                | Q(source=FollowUpSource.CALLBACK, callback__isnull=False, finding__isnull=True),
                name="followup_source_row",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True)
                | (Q(closed_on__gte=F("opened_on")) & ~Q(outcome="")),
                name="followup_closed_with_outcome",
            ),
            models.UniqueConstraint(
                fields=["resident"],
                condition=Q(closed_on__isnull=True),
                name="followup_one_open_per_resident",
            ),
        ]
        indexes = [models.Index(fields=["grid", "closed_on"])]

    @property
    def is_open(self) -> bool:
        return self.closed_on is None
