"""Forms of the requests pages. They only parse input; the rules live in the services, whose
DomainErrors are put back on the form (`add_problems`) naming the field."""

import re
import uuid

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bastion.core.errors import DomainError
from bastion.geo.models import Household, Node
from bastion.requests.models import (
    AttendeeCategory,
    Category,
    Channel,
    ErrandUrgency,
    Track,
    Urgency,
)
from bastion.requests.queries import place_address
from bastion.requests.services import AttendeeInput, ItemInput

STAFF_CHANNELS = [c for c in Channel.choices if c[0] != Channel.RESIDENT_PAGE]
RATINGS = [
    (5, _("Very satisfied")),
    (4, _("Satisfied")),
    (3, _("So-so")),
    (2, _("Dissatisfied")),
    (1, _("Very dissatisfied")),
]


class ProblemsMixin:
    def add_problems(self, error: DomainError) -> None:
        for problem in error.problems:
            name = problem.field if problem.field in self.fields else None
            self.add_error(name, problem.message)

    def focus_first_error(self) -> None:
        """Focus the first field refused: the browser scrolls it into view (on a long page
        the reason stays beside what was typed, not above the fold)."""
        for name, field in self.fields.items():
            if name in self.errors and not field.widget.is_hidden:
                field.widget.attrs["autofocus"] = True
                field.widget.attrs["aria-invalid"] = "true"
                return


class ClientIdMixin(forms.Form):
    """The id the page made for this submission: a resubmitted form carries the same id."""

    client_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("client_id", uuid.uuid4())
        super().__init__(*args, **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input; checked by the service (type by content, size)."""

    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(PhotosField, self).clean(f, initial) for f in files if f]


def place_label(node: Node) -> str:
    if node.level == "unit" and getattr(node, "building_name", None):
        return place_address(node)  # a unit of `unit_places`: its full address
    indent = "\u2003" * max(0, node.depth - 4)
    return f"{indent}{node.get_level_display()} · {node.name}"


class PlaceMixin(forms.Form):
    """Where: a place in the tree (a unit, with a room for a household; or any node)."""

    node = forms.ModelChoiceField(queryset=Node.objects.none(), label=_("Place"))
    room = forms.CharField(
        max_length=20,
        required=False,
        label=_("Room"),
        help_text=_("The household's room number, when the place is a unit."),
    )

    def __init__(self, *args, nodes, household: Household | None = None, **kwargs):
        if household is not None:
            kwargs.setdefault("initial", {}).update(
                {"node": household.unit_id, "room": household.room}
            )
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = nodes
        self.fields["node"].label_from_instance = place_label

    def clean(self):
        data = super().clean()
        node, room = data.get("node"), (data.get("room") or "").strip()
        data["household"] = None
        if node is not None and room:
            if node.level != "unit":
                self.add_error("room", _("Choose the unit first, then the room."))
            else:
                data["household"] = Household.objects.filter(unit_id=node.pk, room=room).first()
                if data["household"] is None:
                    self.add_error("room", _("There is no such room in this unit."))
        return data


class RequestForm(ProblemsMixin, ClientIdMixin, PlaceMixin):
    channel = forms.ChoiceField(choices=STAFF_CHANNELS, label=_("Channel"), initial=Channel.WALK_IN)
    category = forms.ChoiceField(choices=Category.choices, label=_("Category"))
    urgency = forms.ChoiceField(choices=Urgency.choices, label=_("Urgency"), initial=Urgency.NORMAL)
    title = forms.CharField(max_length=120, label=_("Problem in a few words"))
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label=_("Details")
    )
    contact_phone = forms.CharField(
        required=False,
        max_length=11,
        label=_("Contact phone"),
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    photos = PhotosField(
        required=False,
        label=_("Photos"),
        help_text=_("Up to 4 photos, JPEG, PNG or WebP, 5 MB each."),
    )

    field_order = [
        "node",
        "room",
        "channel",
        "category",
        "urgency",
        "title",
        "description",
        "contact_phone",
        "photos",
    ]


class TriageForm(ProblemsMixin, forms.Form):
    track = forms.ChoiceField(choices=Track.choices, widget=forms.RadioSelect, label=_("Track"))


class ResultForm(ProblemsMixin, ClientIdMixin):
    result = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label=_("Result"), required=False
    )
    photos = PhotosField(required=False, label=_("Evidence photos"))


class CloseForm(ProblemsMixin, forms.Form):
    result = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label=_("Result"),
        help_text=_("Needed when no result has been recorded yet."),
    )


class AssignForm(ProblemsMixin, forms.Form):
    assignee = forms.CharField(
        max_length=100, label=_("Taken by"), help_text=_("A person or an organisation present.")
    )
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}))


class ReportBackForm(ProblemsMixin, forms.Form):
    meeting = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Reported back")
    )


class RateForm(ProblemsMixin, ClientIdMixin):
    rating = forms.TypedChoiceField(
        choices=RATINGS,
        coerce=int,
        widget=forms.RadioSelect,
        label=_("How satisfied is the resident?"),
    )
    comment = forms.CharField(required=False, max_length=300, label=_("Comment"))


class ReopenForm(ProblemsMixin, ClientIdMixin):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), label=_("Why reopen"), required=False
    )


class MeetingForm(ProblemsMixin, ClientIdMixin):
    community = forms.ModelChoiceField(queryset=Node.objects.none(), label=_("Community"))
    title = forms.CharField(max_length=120, label=_("Title"))
    starts_at = forms.DateTimeField(
        label=_("Date and time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    place = forms.CharField(max_length=120, required=False, label=_("Place"))

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities


SPLIT_NAMES = re.compile(r"[\n,，、;；]+")


class MeetingRecordForm(ProblemsMixin, forms.Form):
    """Attendees by category, one text box each ("name" or "name / organisation", one per
    line or separated by 、), and the minutes."""

    chair = forms.CharField(max_length=50, required=False, label=_("Chaired by"))
    recorder = forms.CharField(max_length=50, required=False, label=_("Minutes taken by"))
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}), label=_("Minutes")
    )

    def __init__(self, *args, meeting=None, **kwargs):
        if meeting is not None:
            initial = kwargs.setdefault("initial", {})
            initial |= {
                "chair": meeting.chair,
                "recorder": meeting.recorder,
                "notes": meeting.notes,
            }
            for category in AttendeeCategory:
                names = [
                    f"{a.name} / {a.organisation}" if a.organisation else a.name
                    for a in meeting.attendees.all()
                    if a.category == category
                ]
                initial[f"att_{category.value}"] = "\n".join(names)
        super().__init__(*args, **kwargs)
        for category in AttendeeCategory:
            self.fields[f"att_{category.value}"] = forms.CharField(
                required=False, label=category.label, widget=forms.Textarea(attrs={"rows": 2})
            )

    def attendee_fields(self):
        return [self[f"att_{c.value}"] for c in AttendeeCategory]

    def attendees(self) -> list[AttendeeInput]:
        found = []
        for category in AttendeeCategory:
            text = self.cleaned_data.get(f"att_{category.value}", "")
            for entry in SPLIT_NAMES.split(text):
                name, _sep, organisation = entry.partition("/")
                if name.strip():
                    found.append(AttendeeInput(category.value, name.strip(), organisation.strip()))
        return found


def parse_items(text: str) -> list[ItemInput]:
    """One item a line: "name quantity", "name × quantity" or "name*quantity"."""
    items = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        match = re.match(r"^(.*?)\s*[×xX*＊]\s*(\S.*)$", line)
        if match:
            items.append(ItemInput(match.group(1).strip(), match.group(2).strip()))
        else:
            items.append(ItemInput(line))
    return items


class ErrandForm(ProblemsMixin, ClientIdMixin, PlaceMixin):
    urgency = forms.ChoiceField(
        choices=ErrandUrgency.choices,
        label=_("Urgency"),
        widget=forms.RadioSelect,
        initial=ErrandUrgency.NORMAL,
    )
    items = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Items"),
        help_text=_("One a line, e.g. “布洛芬 × 1盒”."),
    )
    payment_note = forms.CharField(
        max_length=200,
        required=False,
        label=_("Payment"),
        help_text=_("For example: paid by transfer on delivery."),
    )
    note = forms.CharField(max_length=300, required=False, label=_("Note"))

    field_order = ["node", "room", "urgency", "items", "payment_note", "note"]

    def clean(self):
        data = super().clean()
        if data.get("node") is not None and data.get("household") is None:
            self.add_error("room", _("An errand is delivered to a household: give the room."))
        return data


class CourierForm(ProblemsMixin, forms.Form):
    courier = forms.TypedChoiceField(coerce=int, label=_("Courier"))

    def __init__(self, *args, couriers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["courier"].choices = [(p.pk, courier_label(p)) for p in couriers]


def courier_label(person) -> str:
    """A courier as the clerk picks one: name, kind, how near, on duty now, open errands."""
    near = {
        0: pgettext_lazy("courier", "this grid"),
        1: pgettext_lazy("courier", "this community"),
        2: pgettext_lazy("courier", "elsewhere in the street"),
    }
    parts = [person.name, person.get_kind_display()]
    if getattr(person, "nearness", None) in near:
        parts.append(str(near[person.nearness]))
    if getattr(person, "on_duty", False):
        parts.append(str(pgettext_lazy("courier", "on duty now")))
    if getattr(person, "unavailable", False):
        parts.append(str(pgettext_lazy("courier", "unavailable")))
    load = getattr(person, "load", 0)
    return " · ".join(parts) + (f" ({load})" if load else "")


class DeliverForm(ProblemsMixin, ClientIdMixin):
    code = forms.CharField(
        max_length=6,
        required=False,
        label=_("Household's code"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    photo = forms.FileField(
        required=False,
        label=_("Or a photo at the door"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )


class StepForm(ClientIdMixin):
    """A one-button step (accept, pick up) with its client id."""


class CancelForm(ProblemsMixin, ClientIdMixin):
    reason = forms.CharField(max_length=200, required=False, label=_("Reason"))


class ConfirmForm(ProblemsMixin, ClientIdMixin):
    rating = forms.TypedChoiceField(
        choices=RATINGS,
        coerce=int,
        widget=forms.RadioSelect,
        required=False,
        empty_value=None,
        label=_("How was it?"),
    )
    comment = forms.CharField(required=False, max_length=300, label=_("Comment"))


# --- the household's own page


class HomeRequestForm(ProblemsMixin, ClientIdMixin):
    category = forms.ChoiceField(choices=Category.choices, label=_("What is it about?"))
    title = forms.CharField(max_length=120, label=_("The problem in a few words"))
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label=_("Details")
    )
    urgency = forms.ChoiceField(
        choices=Urgency.choices,
        label=_("How urgent?"),
        widget=forms.RadioSelect,
        initial=Urgency.NORMAL,
    )
    raised_by = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label=_("Who is asking")
    )
    photos = PhotosField(required=False, label=_("Photos (optional)"))

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["raised_by"].choices = [("", "—"), *((m.pk, m.name) for m in members)]


class HomeErrandForm(ProblemsMixin, ClientIdMixin):
    urgency = forms.ChoiceField(
        choices=ErrandUrgency.choices,
        label=_("What kind?"),
        widget=forms.RadioSelect,
        initial=ErrandUrgency.MEDICINE,
    )
    items = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("What to buy"),
        help_text=_("One a line, e.g. “布洛芬 × 1盒”."),
    )
    payment_note = forms.CharField(max_length=200, required=False, label=_("How you will pay"))
    note = forms.CharField(max_length=300, required=False, label=_("Note for the courier"))
    raised_by = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label=_("Who is ordering")
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["raised_by"].choices = [("", "—"), *((m.pk, m.name) for m in members)]
