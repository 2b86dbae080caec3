"""How the change log reads to a person: one presenter for every page that shows history
(a resident's, a household's, a request's, a place's, the admin's change page).

The log (`core.ChangeLog`) stores raw values: field names as the code spells them, foreign
keys as ids, times as UTC ISO strings. Here they become what a clerk reads: the type of row
and its fields in the UI's language, choices and yes/no in words, times in local time to the
minute, a referenced row by its name (a login by its person's name; a resident or person the
reader may not see by a masked name) and ID and mobile numbers masked (a full number is shown
only through a logged reveal)."""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from bastion.core.models import ChangeLog, Located
from bastion.geo.identity import mask_document, mask_id_number, mask_mobile, mask_name

# The rows whose changes are logged, by `ChangeLog.object_type` (the models keep Django's
# English default names, which the UI cannot translate).
MODEL_LABELS = {
    "geo.node": pgettext_lazy("record type", "Place in the tree"),
    "geo.household": pgettext_lazy("record type", "Household"),
    "geo.resident": pgettext_lazy("record type", "Resident"),
    "geo.commandzone": pgettext_lazy("record type", "Command zone"),
    "people.organisation": pgettext_lazy("record type", "Organisation"),
    "people.person": pgettext_lazy("record type", "Person"),
    "people.post": pgettext_lazy("record type", "Post"),
    "people.personskill": pgettext_lazy("record type", "Skill"),
    "people.availability": pgettext_lazy("record type", "Availability"),
    "people.place": pgettext_lazy("record type", "Place on duty"),
    "people.shift": pgettext_lazy("record type", "Duty shift"),
    "people.assignment": pgettext_lazy("record type", "Duty assignment"),
    "people.checkevent": pgettext_lazy("record type", "Check-in"),
    "people.dispatch": pgettext_lazy("record type", "Dispatch"),
    "people.deployment": pgettext_lazy("record type", "Deployment"),
    "people.reportin": pgettext_lazy("record type", "Report-in"),
    "people.team": pgettext_lazy("record type", "Team"),
    "people.teammember": pgettext_lazy("record type", "Team member"),
    "people.allowancemonth": pgettext_lazy("record type", "Allowance month"),
    "people.allowancerate": pgettext_lazy("record type", "Allowance rate"),
    "people.allowanceline": pgettext_lazy("record type", "Allowance line"),
    "people.award": pgettext_lazy("record type", "Award"),
    "accounts.reveallog": pgettext_lazy("record type", "Number reveal"),
    "ledgers.importjob": pgettext_lazy("record type", "Ledger import"),
    "screening.campaign": pgettext_lazy("record type", "Door-knock campaign"),
    "screening.campaignhousehold": pgettext_lazy("record type", "Household in a campaign"),
    "screening.visit": pgettext_lazy("record type", "Visit"),
    "screening.finding": pgettext_lazy("record type", "Finding"),
    "screening.calllist": pgettext_lazy("record type", "Call list"),
    "screening.callrow": pgettext_lazy("record type", "Call list row"),
    "screening.callback": pgettext_lazy("record type", "Callback"),
    "screening.followup": pgettext_lazy("record type", "Follow-up"),
    "reports.dailyfigure": pgettext_lazy("record type", "Daily figure"),
    "reports.gridreport": pgettext_lazy("record type", "Grid report"),
    "testing.round": pgettext_lazy("record type", "Testing round"),
    "testing.site": pgettext_lazy("record type", "Sampling site"),
    "testing.station": pgettext_lazy("record type", "Sampling station"),
    "testing.shift": pgettext_lazy("record type", "Station shift"),
    "testing.sitepost": pgettext_lazy("record type", "Site post"),
    "testing.tube": pgettext_lazy("record type", "Tube"),
    "testing.walkin": pgettext_lazy("record type", "Walk-in"),
    "testing.scan": pgettext_lazy("record type", "Scan"),
    "testing.box": pgettext_lazy("record type", "Transport box"),
    "testing.bag": pgettext_lazy("record type", "Sample bag"),
    "testing.handover": pgettext_lazy("record type", "Hand-over"),
    "testing.boxreceipt": pgettext_lazy("record type", "Lab receipt"),
    "testing.resultimport": pgettext_lazy("record type", "Result import"),
    "testing.retest": pgettext_lazy("record type", "Retest"),
    "requests.request": pgettext_lazy("record type", "Request"),
    "requests.photo": pgettext_lazy("record type", "Photo"),
    "requests.meeting": pgettext_lazy("record type", "Meeting"),
    "requests.errand": pgettext_lazy("record type", "Errand"),
    "requests.sealedbuilding": pgettext_lazy("record type", "Sealed building"),
    "requests.householdlink": pgettext_lazy("record type", "Household link"),
    "incidents.controlarea": pgettext_lazy("record type", "Control area"),
    "notices.notification": pgettext_lazy("record type", "Notification"),
}

# How the pages name the logged fields of residents and households ("person" context keeps
# "Name" and "Disabled" apart from Django's own "name" of a thing and "disabled" of a switch).
# A module's own log keys may be named by its caller (`extra_labels`).
FIELD_LABELS = {
    "name": pgettext_lazy("person", "Name"),
    "id_number": gettext_lazy("ID number"),
    "phone": gettext_lazy("Mobile"),
    "relation": gettext_lazy("Relation to head"),
    "presence": gettext_lazy("Presence"),
    "immobile": gettext_lazy("Immobile"),
    "disabled": pgettext_lazy("person", "Disabled"),
    "chronic_illness": gettext_lazy("Chronic illness"),
    "pregnant": gettext_lazy("Pregnant"),
    "infant": gettext_lazy("Infant"),
    "household_id": gettext_lazy("Household"),
    "doc_kind": gettext_lazy("Document kind"),
    "doc_number": gettext_lazy("Document number"),
    "guardian_id": gettext_lazy("Guardian"),
    "no_phone": gettext_lazy("No phone"),
    "registered_address": gettext_lazy("Registered address"),
    "room": gettext_lazy("Room"),
    "floor": gettext_lazy("Floor"),
}

# Logged names used when the field has no name set for translation (or is no field).
FALLBACK_LABELS = {
    "node_id": pgettext_lazy("logged field", "Place"),
    "person_id": pgettext_lazy("logged field", "Person"),
    "zone_id": pgettext_lazy("logged field", "Command zone"),
    "buildings": pgettext_lazy("logged field", "Buildings"),
    "kind": pgettext_lazy("logged field", "Kind"),
    "title": pgettext_lazy("logged field", "Title"),
    "since": pgettext_lazy("logged field", "Since"),
    "lifted_at": pgettext_lazy("logged field", "Lifted at"),
    "reverted": pgettext_lazy("logged field", "Reverted"),
    "claimed_at": pgettext_lazy("logged field", "Claimed at"),
    "claimed_by_id": gettext_lazy("Claimed by"),
    "courier_id": gettext_lazy("Courier"),
    "meeting_id": gettext_lazy("Meeting"),
    "report_meeting_id": gettext_lazy("Reported at meeting"),
    "status": pgettext_lazy("logged field", "Status"),
    "reason": pgettext_lazy("logged field", "Reason"),
    "packed": pgettext_lazy("logged field", "Tube packed"),
    "bag": pgettext_lazy("logged field", "Bag boxed"),
    "result": pgettext_lazy("logged field", "Result"),
    "month": pgettext_lazy("logged field", "Month"),
    "amount": pgettext_lazy("logged field", "Amount"),
    "file": pgettext_lazy("logged field", "File"),
    "tubes": pgettext_lazy("logged field", "Tubes"),
    "positive": pgettext_lazy("logged field", "Positive"),
    "invalid": pgettext_lazy("logged field", "Invalid"),
}

SOURCE_LABELS = {
    "web": gettext_lazy("web page"),
    "api": gettext_lazy("API"),
    "import": gettext_lazy("ledger import"),
    "demo": gettext_lazy("demo data"),
    "system": pgettext_lazy("change source", "the system"),
    "resident": gettext_lazy("its own page"),
}

MASKED = {
    "id_number": mask_id_number,
    "doc_number": mask_document,
    "phone": mask_mobile,
    "contact_phone": mask_mobile,
    "from_phone": mask_mobile,
    "to_phone": mask_mobile,
}


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str | None  # None in a creation
    new: str


def login_name(user) -> str:
    """How a login is named to people: its person's name where the login is a person's, else
    its full name, else the login name."""
    if user is None:
        return ""
    person = getattr(user, "person", None)
    if person is not None:
        return person.name
    return user.get_full_name() or user.get_username()


def model_of(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def model_label(object_type: str) -> str:
    if object_type in MODEL_LABELS:
        return str(MODEL_LABELS[object_type])
    model = model_of(object_type)
    return str(model._meta.verbose_name) if model else object_type


def source_label(source: str) -> str:
    return str(SOURCE_LABELS.get(source, source))


def _field(model, name: str):
    try:
        found = model._meta.get_field(name) if model else None
    except FieldDoesNotExist:
        return None
    # A logged name may be a reverse relation (a zone's "buildings"): no column, no label.
    return found if found is not None and found.concrete else None


def field_label(model, name: str, extra: Mapping[str, str] | None = None) -> str:
    if extra and name in extra:
        return str(extra[name])
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    found = _field(model, name)
    if found is not None and isinstance(found.verbose_name, Promise):  # named for translation
        return str(found.verbose_name).capitalize()
    if name in FALLBACK_LABELS:
        return str(FALLBACK_LABELS[name])
    return str(found.verbose_name).capitalize() if found is not None else name


def _local_minute(value: str) -> str | None:
    """A logged time ("2026-12-07 15:58:33.709195+00:00") in local time to the minute."""
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(at):
        return None
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def _referenced_name(row) -> str:
    if isinstance(row, get_user_model()):
        return login_name(row)
    if hasattr(row, "room") and hasattr(row, "unit_id") and not hasattr(row, "name"):
        return f"{row.building} {row.unit} {row.room}"  # a household by its address
    return str(getattr(row, "name", None) or row)


def referenced_names(user, entries: Iterable[ChangeLog]) -> dict[tuple[type, object], str]:
    """Names of the rows the entries' logged foreign keys point to: one query per referenced
    table. A located row the user may not see (a resident, a person) is named masked."""
    wanted: dict[type, set] = {}
    for entry in entries:
        model = model_of(entry.object_type)
        for name, values in entry.changes.items():
            found = _field(model, name)
            if found is not None and found.many_to_one:
                ids = {v for v in values if isinstance(v, int) and not isinstance(v, bool)}
                wanted.setdefault(found.related_model, set()).update(ids)
    names: dict[tuple[type, object], str] = {}
    for related, ids in wanted.items():
        if not ids:
            continue
        rows = related._base_manager.filter(pk__in=ids)
        if related is get_user_model():
            rows = rows.select_related("person")
        elif related._meta.model_name == "household":
            rows = rows.select_related("building", "unit")
        seen = None
        if issubclass(related, Located) and related._meta.model_name != "node":
            visible = related.objects.restrict(user).filter(pk__in=ids)
            seen = set(visible.values_list("pk", flat=True))
        for row in rows:
            shown = _referenced_name(row)
            names[(related, row.pk)] = shown if seen is None or row.pk in seen else mask_name(shown)
    return names


def value_shown(model, name: str, value, names: Mapping) -> str:
    """A logged value as a person reads it."""
    if value is None or value == "":
        return "—"
    if name in MASKED:
        return MASKED[name](str(value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    found = _field(model, name)
    if found is not None and found.many_to_one:
        return names.get((found.related_model, value), f"#{value}")
    if found is not None and found.choices:
        return str(dict(found.flatchoices).get(value, value))
    if isinstance(value, str) and (found is None or isinstance(found, models.DateTimeField)):
        local = _local_minute(value)
        if local is not None:
            return local
    return str(value)


def field_changes(
    entry: ChangeLog, names: Mapping, extra_labels: Mapping[str, str] | None = None
) -> list[FieldChange]:
    model = model_of(entry.object_type)
    return [
        FieldChange(
            field_label(model, name, extra_labels),
            None if entry.action == ChangeLog.CREATE else value_shown(model, name, old, names),
            value_shown(model, name, new, names),
        )
        for name, (old, new) in entry.changes.items()
    ]
