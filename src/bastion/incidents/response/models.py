"""The outbreak response (疫情处置): a confirmed case proposes control areas around it (its
unit or building sealed, its grid controlled, its community under precaution); a commander
confirms the proposal (adjusting it first if need be), which sets the areas and opens one
bundle of tasks on one board: home sampling, delivery, tracing, transfers, disinfection,
reserve cadres, an order to the chiefs. One bundle per case (a unique key on the case), so two
commanders confirming at once make one."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bastion.core.models import Located
from bastion.incidents.models import ControlArea, ControlLevel


def _valid(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": [c.value for c in choices]})


class CaseSource(models.TextChoices):
    RETEST = "retest", _("Positive retest")
    MANUAL = "manual", _("Entered by hand")
    IMPORT = "import", _("Disease-control import")


class CaseState(models.TextChoices):
    PROPOSED = "proposed", _("Waiting for confirmation")
    CONFIRMED = "confirmed", pgettext_lazy("case", "Confirmed")


class Case(Located):
    """A confirmed case, located at the unit (or building) where the person lives."""

    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+", verbose_name=_("home"))
    resident = models.ForeignKey(
        "geo.Resident", models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(_("name"), max_length=50)
    source = models.CharField(_("source"), max_length=6, choices=CaseSource.choices)
    # The tube's barcode (a retest) or the disease-control system's case number (import).
    reference = models.CharField(_("reference"), max_length=40, blank=True)
    reported_at = models.DateTimeField(_("reported at"))
    state = models.CharField(
        _("state"), max_length=9, choices=CaseState.choices, default=CaseState.PROPOSED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "reference"],
                condition=~Q(reference=""),
                name="response_case_reference_once",
            ),
            models.CheckConstraint(condition=_valid("source", CaseSource), name="case_source"),
            models.CheckConstraint(condition=_valid("state", CaseState), name="case_state"),
            models.CheckConstraint(condition=~Q(name=""), name="case_has_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.node})"


class ProposedArea(models.Model):
    """One control area a case proposes; the commander may change its node or level (or drop
    it) before confirming."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="proposed")
    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+", verbose_name=_("area"))
    level = models.CharField(_("control level"), max_length=10, choices=ControlLevel.choices)

    class Meta:
        ordering = ["case", "node__depth"]
        constraints = [
            models.UniqueConstraint(fields=["case", "node"], name="proposed_area_once"),
            models.CheckConstraint(
                condition=_valid("level", ControlLevel), name="proposed_area_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.node} {self.get_level_display()}"


class Bundle(Located):
    """The tasks a confirmed case sets in motion, located at its sealed area."""

    # One bundle per case: the database refuses a second (two commanders at once).
    case = models.OneToOneField(Case, models.PROTECT, related_name="bundle")
    node = models.ForeignKey(
        "geo.Node", models.PROTECT, related_name="+", verbose_name=_("sealed area")
    )
    areas = models.ManyToManyField(ControlArea, related_name="+")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed at"))

    class Meta:
        ordering = ["-confirmed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.case.name} · {self.node}"


class TaskKind(models.TextChoices):
    SAMPLING = "sampling", _("Home sampling")
    DELIVERY = "delivery", _("Delivery to sealed households")
    TRACING = "tracing", _("Contact tracing calls")
    TRANSFERS = "transfers", _("Transfers")
    DISINFECTION = "disinfection", _("Disinfection")
    DISPATCH = "dispatch", _("Reserve cadres")
    ORDER = "order", _("Order to the chiefs")


class TaskState(models.TextChoices):
    OPEN = "open", pgettext_lazy("task", "Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


class Task(Located):
    """One task of a bundle: its owner (a person from the posts), deadline and state, and
    the row it opened elsewhere (a round, a call list, an order, a dispatch)."""

    bundle = models.ForeignKey(Bundle, models.PROTECT, related_name="tasks")
    kind = models.CharField(_("kind"), max_length=12, choices=TaskKind.choices)
    owner = models.ForeignKey(
        "people.Person",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    deadline = models.DateTimeField(_("deadline"))
    state = models.CharField(
        _("state"), max_length=11, choices=TaskState.choices, default=TaskState.OPEN
    )
    ref_id = models.BigIntegerField(null=True, blank=True)  # the row opened in its module
    note = models.CharField(_("note"), max_length=200, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["bundle", "deadline", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bundle", "kind"], name="response_task_once"),
            models.CheckConstraint(condition=_valid("kind", TaskKind), name="task_kind"),
            models.CheckConstraint(condition=_valid("state", TaskState), name="task_state"),
            models.CheckConstraint(
                condition=Q(state=TaskState.DONE, done_at__isnull=False)
                | ~Q(state=TaskState.DONE) & Q(done_at__isnull=True),
                name="task_done_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.bundle}"


class Disinfection(Located):
    """One disinfection (消杀): where, when, with what, by whom."""

    bundle = models.ForeignKey(
        Bundle, models.PROTECT, null=True, blank=True, related_name="disinfections"
    )
    node = models.ForeignKey("geo.Node", models.PROTECT, related_name="+", verbose_name=_("area"))
    place = models.CharField(_("place"), max_length=100)
    at = models.DateTimeField(_("time"))
    agent = models.CharField(_("disinfectant"), max_length=60)
    person = models.CharField(_("done by"), max_length=50)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    client_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(place=""), name="disinfection_has_place"),
            models.CheckConstraint(condition=~Q(agent=""), name="disinfection_has_agent"),
            models.CheckConstraint(condition=~Q(person=""), name="disinfection_has_person"),
        ]
