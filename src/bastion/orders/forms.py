"""The forms of the order pages: issuing (from a template or blank), and the recipient's
report of the work done. Rules live in `orders.services`; these only read the input."""

import datetime as dt
import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bastion.orders.models import Priority
from bastion.orders.services import ACK_MINUTES, order_roles


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(FilesField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class IssueForm(forms.Form):
    node = forms.ModelChoiceField(queryset=None, label=_("Issued to"), empty_label=None)
    roles = forms.MultipleChoiceField(
        label=pgettext_lazy("order", "To"), choices=order_roles, widget=forms.CheckboxSelectMultiple
    )
    team = forms.ModelChoiceField(queryset=None, label=_("Team"), required=False)
    title = forms.CharField(label=_("Order title"), max_length=120, required=False)
    text = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    ack_minutes = forms.IntegerField(
        label=_("Minutes to acknowledge"), min_value=1, max_value=24 * 60, initial=ACK_MINUTES
    )
    due_at = forms.DateTimeField(
        label=_("Complete by"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    attachments = FilesField(label=_("Files"), required=False)
    client_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, nodes, teams, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("client_id", uuid.uuid4())
        kwargs["initial"].setdefault("priority", Priority.ROUTINE)
        kwargs["initial"].setdefault("due_at", timezone.localtime() + dt.timedelta(hours=24))
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = nodes
        self.fields["team"].queryset = teams


class DoneForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    photo = forms.FileField(label=_("Photo"), required=False)
