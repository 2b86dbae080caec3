"""Revealing masked personal data: one full ID or phone number shown to a role that may see
it, and logged (who, whose, which, when, through what) in the same transaction.

It sits in core because every layer reveals (geo's residents, people's persons, testing's
hand-overs); the log's table belongs to accounts and is reached by name, as the scope reads
grants, so that core imports no app."""

from django.apps import apps
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction

from bastion.core import scope
from bastion.core.errors import DomainError

# A person's numbers, the mobiles of a sample box's hand-over (a driver, a lab clerk), and the
# phone a resident's request was raised with.
REVEALABLE_FIELDS = ("id_number", "doc_number", "phone", "from_phone", "to_phone", "contact_phone")


@transaction.atomic
def personal_data_reveal(
    *, user: User, subject, field: str, via: str = "web", whose: str = ""
) -> str:
    """Show one full ID or phone number of a resident, person or hand-over the user may
    reveal; log it, under `whose` name when the subject is not the person (a hand-over)."""
    if field not in REVEALABLE_FIELDS or field not in {f.name for f in subject._meta.fields}:
        raise DomainError(f"{field!r} cannot be revealed.", field="field")
    if not scope.allows(user, scope.REVEAL, subject):  # the row in hand: no query
        raise PermissionDenied("Your role may not see this number in full.")
    entry = apps.get_model("accounts", "RevealLog")(
        user=user,
        subject_type=subject._meta.model_name,
        subject_id=subject.pk,
        subject_name=(whose or str(subject))[:50],
        field=field,
        via=via,
    )
    entry.locate(subject)
    entry.save()
    return getattr(subject, field) or ""
