"""Forms of the screening pages. They only parse input; the rules live in the services, whose
DomainErrors are put back on the form (`add_problems`) naming the field."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from bastion.core.errors import DomainError
from bastion.geo.models import Node
from bastion.screening.models import Channel, HealthCode, ListKind, Outcome
from bastion.screening.services import FindingInput

# One tap = one button: its value is "<outcome>:<channel>".
MARKS = [
    (f"{Outcome.REACHED}:{Channel.VISIT}", _("Visited")),
    (f"{Outcome.REACHED}:{Channel.PHONE}", _("Phoned")),
    (f"{Outcome.REACHED}:{Channel.CHAT}", _("Chat")),
    (f"{Outcome.NOT_REACHABLE}:", _("Not reachable")),
    (f"{Outcome.AWAY}:", _("Away")),
]


class ProblemsMixin:
    def add_problems(self, error: DomainError) -> None:
        for problem in error.problems:
            field = problem.field if problem.field in self.fields else None
            self.add_error(field, problem.message)


class MarkForm(ProblemsMixin, forms.Form):
    """The quick marks of the chief's list: outcome and channel in one button, and the id the
    page made for this submission (a retried submission carries the same id)."""

    mark = forms.ChoiceField(choices=MARKS)
    client_id = forms.UUIDField(widget=forms.HiddenInput)
    note = forms.CharField(required=False, max_length=200, label=_("Note"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"client_id": uuid.uuid4()})
        super().__init__(*args, **kwargs)

    @property
    def outcome_channel(self) -> tuple[str, str]:
        outcome, _sep, channel = self.cleaned_data["mark"].partition(":")
        return outcome, channel


class FindingForm(forms.Form):
    """What was found about one resident; prefixed with the resident's id."""

    temperature = forms.DecimalField(
        label=_("Temperature (°C)"),
        required=False,
        max_digits=3,
        decimal_places=1,
        min_value=34,
        max_value=43,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    fever = forms.BooleanField(label=_("Fever"), required=False)
    cough = forms.BooleanField(label=_("Cough"), required=False)
    sore_throat = forms.BooleanField(label=_("Sore throat"), required=False)
    fatigue = forms.BooleanField(label=_("Fatigue"), required=False)
    taste_smell_loss = forms.BooleanField(label=_("Loss of taste or smell"), required=False)
    diarrhoea = forms.BooleanField(label=_("Diarrhoea"), required=False)
    other_symptoms = forms.CharField(label=_("Other symptoms"), required=False, max_length=200)
    travel_place = forms.CharField(
        label=_("Travelled to (last 14 days)"), required=False, max_length=100
    )
    travel_date = forms.DateField(
        label=_("Travel date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    health_code = forms.ChoiceField(
        label=_("Health code"),
        required=False,
        choices=[("", _("Not checked")), *HealthCode.choices],
    )
    needs_medicine = forms.BooleanField(label=_("Needs medicine"), required=False)
    needs_help = forms.BooleanField(label=_("Needs help"), required=False)
    needs_note = forms.CharField(label=_("What is needed"), required=False, max_length=200)

    SYMPTOMS = ("fever", "cough", "sore_throat", "fatigue", "taste_smell_loss", "diarrhoea")
    NEEDS = ("needs_medicine", "needs_help")

    def __init__(self, *args, resident, **kwargs):
        self.resident = resident
        super().__init__(*args, prefix=f"r{resident.pk}", **kwargs)

    def symptom_fields(self):
        return [self[name] for name in self.SYMPTOMS]

    def need_fields(self):
        return [self[name] for name in self.NEEDS]

    def entered(self) -> bool:
        """Whether anything was filled in for this resident."""
        data = self.cleaned_data
        return any(data.get(name) not in (None, "", False) for name in self.fields)

    def as_input(self) -> FindingInput:
        return FindingInput(resident_id=self.resident.pk, **self.cleaned_data)


class CampaignForm(ProblemsMixin, forms.Form):
    node = forms.ModelChoiceField(queryset=Node.objects.none(), label=_("Area"), empty_label=None)
    name = forms.CharField(max_length=100, label=_("Name"))
    starts_on = forms.DateField(
        label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(label=_("Ends on"), widget=forms.DateInput(attrs={"type": "date"}))
    client_id = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, nodes, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("client_id", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = nodes
        self.fields["node"].label_from_instance = node_label


def node_label(node: Node) -> str:
    return f"{node.get_level_display()} · {node.name}"


class RowsAddForm(forms.Form):
    file = forms.FileField(label=_("File (.xlsx or .csv)"))


class CallListForm(ProblemsMixin, forms.Form):
    node = forms.ModelChoiceField(queryset=Node.objects.none(), label=_("Area"), empty_label=None)
    kind = forms.ChoiceField(
        choices=ListKind.choices, label=_("Kind of list"), initial=ListKind.PHARMACY
    )
    name = forms.CharField(
        max_length=100,
        required=False,
        label=_("Name"),
        help_text=_("For example: pharmacy list of 12 April."),
    )
    file = forms.FileField(label=_("File (.xlsx or .csv)"))
    client_id = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, nodes, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("client_id", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = nodes
        self.fields["node"].label_from_instance = node_label


class ResolveForm(ProblemsMixin, forms.Form):
    """Settle a row: pick one of the offered residents, or give a resident's full ID or mobile
    number, or say the person is not in our area."""

    resident = forms.IntegerField(required=False, widget=forms.RadioSelect)
    lookup = forms.CharField(required=False, max_length=18, label=_("ID number or mobile"))
    outside = forms.BooleanField(required=False, label=_("Not in our area"))


class CallbackForm(ProblemsMixin, forms.Form):
    fever_now = forms.TypedChoiceField(
        label=_("Fever now?"),
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        choices=[("no", _("No fever")), ("yes", _("Has fever"))],
    )
    temperature = forms.DecimalField(
        label=_("Temperature (°C)"),
        required=False,
        max_digits=3,
        decimal_places=1,
        min_value=34,
        max_value=43,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    drug_user = forms.CharField(label=_("Who used the drug"), required=False, max_length=50)
    drug_used_on = forms.DateField(
        label=_("Used on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    illness_history = forms.CharField(label=_("Illness history"), required=False, max_length=200)
    travel_place = forms.CharField(
        label=_("Travelled to (last 14 days)"), required=False, max_length=100
    )
    travel_date = forms.DateField(
        label=_("Travel date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)
    client_id = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("client_id", uuid.uuid4())
        super().__init__(*args, **kwargs)


class FollowUpCloseForm(ProblemsMixin, forms.Form):
    outcome = forms.CharField(
        max_length=200,
        label=_("Outcome"),
        widget=forms.TextInput(
            attrs={"placeholder": _("Outcome, e.g. tested negative, fever gone")}
        ),
    )
