"""The forms of the mobilization pages. They only collect input; the services decide."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bastion.people.mobilization.models import (
    AvailabilityStatus,
    DeploymentKind,
    PlaceKind,
    Skill,
    TeamKind,
)
from bastion.people.models import PostRole

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class NodeChoiceField(forms.TypedChoiceField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, coerce=int, **kwargs)


class DispatchForm(forms.Form):
    person = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Persons"),
        coerce=int,
        error_messages={"required": gettext_lazy("Tick the persons to send.")},
    )
    target = forms.ChoiceField(label=gettext_lazy("Send to"))
    kind = forms.ChoiceField(
        label=gettext_lazy("As"), choices=DeploymentKind.choices, initial=DeploymentKind.RESERVE
    )
    starts_on = forms.DateField(
        label=gettext_lazy("From"), widget=DATE_WIDGET, initial=timezone.localdate
    )
    ends_on = forms.DateField(label=gettext_lazy("Until"), widget=DATE_WIDGET)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def __init__(self, *args, targets: list[tuple[str, str]], persons: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "—"), *targets]
        self.fields["person"].choices = [(p, p) for p in persons]


class AvailabilityForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Availability"), choices=AvailabilityStatus.choices
    )
    until = forms.DateField(label=gettext_lazy("Until"), required=False, widget=DATE_WIDGET)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)
    skills = forms.MultipleChoiceField(
        label=gettext_lazy("Skills"),
        choices=Skill.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class ReportInForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50)
    id_number = forms.CharField(
        label=gettext_lazy("ID number"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    phone = forms.CharField(
        label=gettext_lazy("Mobile"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    employer_name = forms.CharField(label=gettext_lazy("Employer"), max_length=120, required=False)
    skills = forms.MultipleChoiceField(
        label=gettext_lazy("What you can help with"),
        choices=Skill.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


class ConfirmForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Give a post"), required=False)
    post_node = NodeChoiceField(label=gettext_lazy("On"), required=False)
    task = forms.CharField(
        label=gettext_lazy("Or a task"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("e.g. door-knocking in building 3, errands"),
    )

    def __init__(self, *args, nodes: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", _("No post")), *PostRole.choices]
        self.fields["post_node"].choices = nodes


class RejectForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why not"), max_length=200)


class PlaceForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=PlaceKind.choices)
    node = NodeChoiceField(label=gettext_lazy("Located in"))
    address = forms.CharField(
        label=gettext_lazy("Address or entrance"), max_length=200, required=False
    )
    required = forms.IntegerField(
        label=gettext_lazy("People a shift"), min_value=1, max_value=50, initial=2
    )
    shifts_per_day = forms.IntegerField(
        label=gettext_lazy("Shifts a day"), min_value=1, max_value=6, initial=3
    )
    shift_hours = forms.IntegerField(
        label=gettext_lazy("Hours a shift"), min_value=1, max_value=24, initial=8
    )
    first_shift_at = forms.TimeField(
        label=gettext_lazy("First shift starts at"),
        initial=dt.time(8, 0),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    closed_on = forms.DateField(label=gettext_lazy("Closed on"), required=False, widget=DATE_WIDGET)

    def __init__(self, *args, nodes, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].choices = nodes
        if editing:
            del self.fields["kind"], self.fields["node"]
        else:
            del self.fields["closed_on"]


class TeamForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=TeamKind.choices)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    where = forms.ChoiceField(label=gettext_lazy("Where"))
    formed_on = forms.DateField(
        label=gettext_lazy("Formed on"), widget=DATE_WIDGET, initial=timezone.localdate
    )

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["where"].choices = targets


class MonthForm(forms.Form):
    month = forms.DateField(
        label=gettext_lazy("Month"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )
    payer = forms.TypedChoiceField(
        label=gettext_lazy("Paying body"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=gettext_lazy("Pays those without an employer."),
    )

    def __init__(self, *args, payers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payer"].choices = [("", "—"), *payers]
