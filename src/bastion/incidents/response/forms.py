"""The forms of the outbreak response's pages: a case entered by hand, a task moved on, a
disinfection recorded. They read the fields; the rules are the services'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from bastion.incidents.response.models import TaskState


class CaseForm(forms.Form):
    node = forms.IntegerField(label=_("Unit"))
    name = forms.CharField(label=_("Name"), max_length=50)
    reference = forms.CharField(label=_("Case number"), max_length=40, required=False)
    reported_at = forms.DateTimeField(label=_("Reported at"), required=False)


class TaskForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=TaskState.choices, required=False)
    deadline = forms.DateTimeField(label=_("Deadline"), required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class DisinfectionForm(forms.Form):
    node = forms.IntegerField(label=_("Area"))
    place = forms.CharField(label=_("Place"), max_length=100)
    at = forms.DateTimeField(label=_("Time"), required=False)
    agent = forms.CharField(label=_("Disinfectant"), max_length=60)
    person = forms.CharField(label=_("Done by"), max_length=50)
