"""The forms of the supervision pages: choosing what to inspect, the fix and the re-check,
a checklist line. Rules live in `supervision.services`; these only read the input."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from bastion.supervision.models import Mode, TargetKind


class TargetForm(forms.Form):
    team = forms.ModelChoiceField(queryset=None, label=_("Team"), empty_label=None)
    target = forms.ChoiceField(label=_("Place or building"))
    mode = forms.ChoiceField(label=_("Mode"), choices=Mode.choices, initial=Mode.PLANNED)

    def __init__(self, *args, teams, places, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["target"].choices = [
            (
                _("Places"),
                [(f"place:{p.pk}", f"{p.name} · {p.get_kind_display()}") for p in places],
            ),
            (_("Buildings"), [(f"building:{b.pk}", b.name) for b in buildings]),
        ]


class FixForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    photo = forms.FileField(label=_("Photo of the fix"), required=False)


class RecheckForm(forms.Form):
    passed = forms.TypedChoiceField(
        label=_("Re-check"),
        choices=[("1", _("Fixed: close it")), ("0", _("Not fixed: reopen it"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ChecklistItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of place"), choices=TargetKind.choices)
    text = forms.CharField(label=_("Item"), max_length=200)
    evidence_required = forms.BooleanField(label=_("Photo required"), required=False)


def new_client_id() -> uuid.UUID:
    return uuid.uuid4()
