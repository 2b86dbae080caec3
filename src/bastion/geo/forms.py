"""Forms of the geo pages. They only collect input; the services validate it (one set of rules
for the web, the API and the importer)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from bastion.core.errors import DomainError
from bastion.geo.changes import FIELD_LABELS as LABELS
from bastion.geo.identity import mask_document, mask_id_number, mask_mobile
from bastion.geo.models import DocKind, Presence, Relation, Resident

FLAGS = ("immobile", "disabled", "chronic_illness", "pregnant", "infant")
IDENTITY_FIELDS = ("doc_kind", "birth_date", "sex", "guardian", "no_phone", "registered_address")


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
    doc_kind = forms.ChoiceField(label=LABELS["doc_kind"], choices=DocKind.choices, required=False)
    doc_number = forms.CharField(
        label=LABELS["doc_number"],
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Only for documents that do not carry it."),
    )
    sex = forms.ChoiceField(
        label=_("Sex"), choices=[("M", _("Male")), ("F", _("Female"))], required=False
    )
    guardian = forms.TypedChoiceField(label=LABELS["guardian_id"], required=False, coerce=int)
    no_phone = forms.BooleanField(label=LABELS["no_phone"], required=False)
    registered_address = forms.CharField(
        label=LABELS["registered_address"],
        max_length=200,
        required=False,
        help_text=_("Blank when registered at the address they live at."),
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
            {
                f: getattr(resident, f)
                for f in (
                    "name",
                    "relation",
                    "presence",
                    "doc_kind",
                    "birth_date",
                    "sex",
                    "no_phone",
                    "registered_address",
                    *FLAGS,
                )
            }
            | {"guardian": resident.guardian_id or ""},
        )
        super().__init__(*args, **kwargs)
        self.members = {
            r.pk: r for r in Resident.objects.filter(household_id=resident.household_id)
        }
        self.members.pop(resident.pk, None)
        self.fields["guardian"].choices = [("", "—")] + [
            (pk, r.name) for pk, r in self.members.items()
        ]
        self.fields["guardian"].help_text = _("For a child: an adult of the same household.")
        self.fields["doc_number"].widget.attrs["placeholder"] = mask_document(resident.doc_number)
        self.fields["id_number"].widget.attrs["placeholder"] = mask_id_number(resident.id_number)
        self.fields["id_number"].help_text = _("Leave empty to keep the current number.")
        self.fields["phone"].widget.attrs["placeholder"] = mask_mobile(resident.phone)
        self.fields["phone"].help_text = _("Leave empty to keep the current number.")

    @property
    def identity_fields(self):
        return [
            self[f]
            for f in (
                "doc_kind",
                "doc_number",
                "birth_date",
                "sex",
                "guardian",
                "registered_address",
            )
        ]

    @property
    def flag_fields(self):
        return [self[f] for f in FLAGS]

    def changes(self) -> dict:
        """The fields to hand to `resident_update`: numbers only when typed in."""
        data = dict(self.cleaned_data)
        for number in ("id_number", "phone", "doc_number"):
            if not data[number].strip():
                del data[number]
        data["guardian"] = self.members.get(data["guardian"]) if data["guardian"] else None
        # A page without the identity section keeps those fields as they are; with it, an
        # empty document kind, sex or birth date keeps the current one.
        sent = "doc_kind" in self.data
        for name in IDENTITY_FIELDS:
            keep = name in ("doc_kind", "sex", "birth_date") and data[name] in ("", None)
            if not sent or keep:
                data.pop(name, None)
        return data

    def add_problems(self, error: DomainError) -> None:
        """Show each refused field next to its input; anything else above the form."""
        for problem in error.problems:
            self.add_error(problem.field if problem.field in self.fields else None, problem.message)
