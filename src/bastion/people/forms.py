"""Forms of the people pages. They only collect input; the services decide."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.geo.models import CommandZone, Node
from bastion.people.models import Person, PostRole
from bastion.people.services import post_roles_for


class PostAssignForm(forms.Form):
    """Put a person the user may see on `node` (already fetched with change scope)."""

    person = forms.ModelChoiceField(
        label=_("Person"),
        queryset=Person.objects.none(),
        error_messages={"required": _("Choose a person: search by name or mobile.")},
    )
    role = forms.ChoiceField(label=_("Post"))
    zone = forms.ModelChoiceField(
        label=_("Command zone"),
        queryset=CommandZone.objects.none(),
        required=False,
        help_text=_("Only for a zone commander or deputy."),
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=60,
        required=False,
        help_text=_("For a lane chief: the lane's name."),
    )
    started_on = forms.DateField(
        label=_("Started on"),
        initial=dt.date.today,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, user, node: Node, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = Person.objects.restrict(user)
        self.fields["role"].choices = [(r, PostRole(r).label) for r in post_roles_for(node.level)]
        if node.level == "street":
            self.fields["zone"].queryset = (
                CommandZone.objects.restrict(user, scope.CHANGE)
                .filter(street=node)
                .order_by("name")
            )
        else:
            del self.fields["zone"], self.fields["title"]

    def add_problems(self, error: DomainError) -> None:
        """Show a service's refusal on the field it names; a field the form does not show
        (the place, fixed by the page) is named in the message above the form."""
        for problem in error.problems:
            if problem.field in self.fields:
                self.add_error(problem.field, problem.message)
            elif problem.field == "node":
                self.add_error(None, f"{_('Place')}: {problem.message}")
            else:
                self.add_error(None, problem.message)
