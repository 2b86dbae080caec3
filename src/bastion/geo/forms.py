"""Forms of the geo pages. They only collect input; the services validate it (one set of rules
for the web, the API and the importer)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from bastion.core.errors import DomainError
from bastion.geo.identity import mask_id_number, mask_mobile
from bastion.geo.models import Presence, Relation, Resident
from bastion.geo.queries import FIELD_LABELS as LABELS

FLAGS = ("immobile", "disabled", "chronic_illness", "pregnant", "infant")


class ResidentForm(forms.Form):
    """Edit a resident. The ID and mobile fields start empty (pre-filling them would show the
    full numbers to roles that may not reveal them); left empty, the number is kept."""

    # Not required here: the service checks it, so every problem is listed in one go.
    name = forms.CharField(label=LABELS["name"], max_length=50, required=False)
    id_number = forms.CharField(
        label=LABELS["id_number"],
        max_length=24,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "text", "spellcheck": "false"}
        ),
    )
    phone = forms.CharField(
        label=LABELS["phone"],
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    relation = forms.ChoiceField(label=LABELS["relation"], choices=Relation.choices)
    presence = forms.ChoiceField(label=LABELS["presence"], choices=Presence.choices)
    immobile = forms.BooleanField(label=LABELS["immobile"], required=False)
    disabled = forms.BooleanField(label=LABELS["disabled"], required=False)
    chronic_illness = forms.BooleanField(label=LABELS["chronic_illness"], required=False)
    pregnant = forms.BooleanField(label=LABELS["pregnant"], required=False)
    infant = forms.BooleanField(label=LABELS["infant"], required=False)

    def __init__(self, *args, resident: Resident, **kwargs):
        kwargs.setdefault(
            "initial",
            {f: getattr(resident, f) for f in ("name", "relation", "presence", *FLAGS)},
        )
        super().__init__(*args, **kwargs)
        self.fields["id_number"].widget.attrs["placeholder"] = mask_id_number(resident.id_number)
        self.fields["id_number"].help_text = _("Leave empty to keep the current number.")
        self.fields["phone"].widget.attrs["placeholder"] = mask_mobile(resident.phone)
        self.fields["phone"].help_text = _("Leave empty to keep the current number.")

    @property
    def flag_fields(self):
        return [self[f] for f in FLAGS]

    def changes(self) -> dict:
        """The fields to hand to `resident_update`: numbers only when typed in."""
        data = dict(self.cleaned_data)
        for number in ("id_number", "phone"):
            if not data[number].strip():
                del data[number]
        return data

    def add_problems(self, error: DomainError) -> None:
        """Show each refused field next to its input; anything else above the form."""
        for problem in error.problems:
            self.add_error(problem.field if problem.field in self.fields else None, problem.message)
