"""Forms of the round and site pages. They only parse input; the rules live in the services,
whose DomainErrors are put back on the form naming the field (`add_problems`)."""

import datetime as dt
import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bastion.core.errors import DomainError
from bastion.geo.models import Node
from bastion.testing.rounds.models import (
    CUSTODY_HOURS,
    DEFAULT_TUBE_PATTERN,
    POOL_SIZES,
    Round,
    Site,
)

POOL_CHOICES = [(n, str(n)) for n in POOL_SIZES]


# `<input type=datetime-local>` reads and writes this format whatever the language.
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


def local_minute(**attrs) -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local", **attrs}, format=LOCAL_MINUTE)


def clock() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def node_label(node: Node) -> str:
    return f"{node.get_level_display()} · {node.name}"


class ProblemsMixin:
    def add_problems(self, error: DomainError) -> None:
        for problem in error.problems:
            field = {"node_id": "node", "building_ids": "buildings"}.get(
                problem.field or "", problem.field
            )
            self.add_error(field if field in self.fields else None, problem.message)


class RoundForm(ProblemsMixin, forms.Form):
    node = forms.ModelChoiceField(queryset=Node.objects.none(), label=_("Area"), empty_label=None)
    name = forms.CharField(
        max_length=100, label=_("Name"), help_text=_("For example: mass testing of 12 April.")
    )
    starts_at = forms.DateTimeField(
        label=_("Starts at"), widget=local_minute(), input_formats=[LOCAL_MINUTE]
    )
    ends_at = forms.DateTimeField(
        label=_("Ends at"), widget=local_minute(), input_formats=[LOCAL_MINUTE]
    )
    deadline = forms.DateTimeField(
        label=_("Deadline"),
        required=False,
        widget=local_minute(),
        input_formats=[LOCAL_MINUTE],
        help_text=_("Everyone sampled by then; 24 hours after the start if left empty."),
    )
    pool_size = forms.TypedChoiceField(
        label=_("Pooling size"), choices=POOL_CHOICES, coerce=int, initial=10
    )
    controlled_pool_size = forms.TypedChoiceField(
        label=_("Pooling size in controlled areas"), choices=POOL_CHOICES, coerce=int, initial=10
    )
    precaution_pool_size = forms.TypedChoiceField(
        label=_("Pooling size in precaution areas"), choices=POOL_CHOICES, coerce=int, initial=20
    )
    sealed_tube = forms.ChoiceField(
        label=_("Tube in sealed areas"),
        choices=Round._meta.get_field("sealed_tube").choices,
        initial="single",
    )
    tube_pattern = forms.CharField(
        label=_("Tube barcodes"),
        max_length=100,
        required=False,
        initial=DEFAULT_TUBE_PATTERN,
        help_text=Round._meta.get_field("tube_pattern").help_text,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocapitalize": "off"}),
    )
    pack_within = forms.IntegerField(
        label=_("Hours to pack a closed tube"),
        min_value=CUSTODY_HOURS[0],
        max_value=CUSTODY_HOURS[1],
        initial=1,
    )
    seal_within = forms.IntegerField(
        label=_("Hours to seal a bag"),
        min_value=CUSTODY_HOURS[0],
        max_value=CUSTODY_HOURS[1],
        initial=2,
    )
    receive_within = forms.IntegerField(
        label=_("Hours for the lab to receive a sealed bag"),
        min_value=CUSTODY_HOURS[0],
        max_value=CUSTODY_HOURS[1],
        initial=2,
    )
    client_id = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, nodes, **kwargs):
        now = timezone.localtime().replace(second=0, microsecond=0)
        start = now + dt.timedelta(minutes=30 - now.minute % 30)
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("client_id", uuid.uuid4())
        initial.setdefault("starts_at", start)
        initial.setdefault("ends_at", start + dt.timedelta(hours=12))
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = nodes
        self.fields["node"].label_from_instance = node_label


class SiteForm(ProblemsMixin, forms.Form):
    node = forms.ModelChoiceField(
        queryset=Node.objects.none(),
        label=_("Stands in"),
        empty_label=None,
        help_text=_("The community or grid where the site stands."),
    )
    name = forms.CharField(
        max_length=100, label=_("Name"), help_text=_("For example: sampling site 1.")
    )
    address = forms.CharField(max_length=200, label=_("Address"))
    opens_at = forms.TimeField(label=_("Opens at"), widget=clock(), initial=dt.time(7))
    closes_at = forms.TimeField(label=_("Closes at"), widget=clock(), initial=dt.time(19))
    stations = forms.IntegerField(
        label=_("Stations"),
        min_value=1,
        max_value=20,
        initial=2,
        help_text=_("Numbered 1, 2, 3 …; more can be added on the site plan."),
    )
    buildings = forms.ModelMultipleChoiceField(
        queryset=Node.objects.none(),
        label=_("Buildings served"),
        required=False,
        help_text=_("Leave empty to serve every building where the site stands."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    plan = forms.CharField(
        label=_("Route and arrangements"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=Site._meta.get_field("plan").help_text,
    )
    client_id = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, nodes, buildings, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("client_id", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = nodes
        self.fields["node"].label_from_instance = node_label
        self.fields["buildings"].queryset = buildings
        self.fields["buildings"].label_from_instance = lambda b: b.name


class SitePlanForm(ProblemsMixin, forms.Form):
    address = forms.CharField(max_length=200, label=_("Address"))
    opens_at = forms.TimeField(label=_("Opens at"), widget=clock())
    closes_at = forms.TimeField(label=_("Closes at"), widget=clock())
    plan = forms.CharField(
        label=_("Route and arrangements"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=Site._meta.get_field("plan").help_text,
    )


class StationForm(ProblemsMixin, forms.Form):
    name = forms.CharField(max_length=60, label=_("Station name"))
