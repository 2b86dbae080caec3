"""Forms of the ledgers pages. The node pickers offer only nodes inside the user's scope."""

from django import forms
from django.utils.translation import gettext_lazy as _

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.geo.models import Node
from bastion.ledgers import queries
from bastion.ledgers.models import ImportMode
from bastion.ledgers.services import upload_size_check

DATASETS = [("residents", _("Residents")), ("posts", _("Posts (chiefs and commanders)"))]


class _NodeForm(forms.Form):
    action = scope.VIEW

    node = forms.TypedChoiceField(coerce=int, label=_("Area"))

    def __init__(self, *args, user, extra: Node | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].choices = queries.node_choices(
            user=user, action=self.action, extra=extra
        )
        if extra is not None:
            self.fields["node"].initial = extra.pk


class ImportForm(_NodeForm):
    action = scope.CHANGE

    mode = forms.ChoiceField(
        label=_("What the file does"),
        choices=ImportMode.choices,
        initial=ImportMode.CREATE,
        widget=forms.RadioSelect,
        required=False,  # an upload that does not say adds new residents
        help_text=_(
            "Update: each row finds a registered resident by ID number; you see every change "
            "before anything is saved."
        ),
    )

    file = forms.FileField(
        label=_("Ledger file"),
        help_text=_(".xlsx or .csv (UTF-8 or GB18030), with the template's header row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.ods,.csv"}),
    )

    def clean_mode(self):
        return self.cleaned_data.get("mode") or ImportMode.CREATE

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            upload_size_check(size=upload.size)
        except DomainError as e:
            raise forms.ValidationError(str(e)) from None
        return upload


class ExportForm(_NodeForm):
    dataset = forms.ChoiceField(
        label=_("What"), choices=DATASETS, initial="residents", widget=forms.RadioSelect
    )
    reveal = forms.BooleanField(
        label=_("Full ID and phone numbers"),
        required=False,
        help_text=_("Every person shown in full is recorded in the reveal log."),
    )

    def __init__(self, *args, user, extra: Node | None = None, **kwargs):
        super().__init__(*args, user=user, extra=extra, **kwargs)
        if not scope.has_action(user, scope.REVEAL):
            del self.fields["reveal"]
