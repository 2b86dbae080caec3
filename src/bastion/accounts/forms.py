"""Filters of the admin pages (GET forms: a bad value is shown and ignored, never an error)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from bastion.accounts.queries import change_object_types


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RevealFilterForm(forms.Form):
    username = forms.CharField(label=_("Login"), required=False, max_length=150)
    since = forms.DateField(label=_("From"), required=False, widget=_date_input())
    until = forms.DateField(label=_("To"), required=False, widget=_date_input())


class ChangeFilterForm(forms.Form):
    object_type = forms.ChoiceField(label=_("Kind of object"), required=False)
    object_id = forms.IntegerField(label=_("Object id"), required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", _("All")), *change_object_types()]
