"""Revealing masked personal data: one full ID or phone number shown to a role that may see
it, and logged (who, whose, which, when, through what) in the same transaction.

It sits in core because every layer reveals (geo's residents, people's persons, testing's
hand-overs); the log's table belongs to accounts and is reached by name, as the scope reads
grants, so that core imports no app."""

import datetime as dt
from collections.abc import Sequence
from functools import reduce
from operator import or_

from django.apps import apps
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

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


# ------------------------------------------------------------------------ search by number
# The masks (geo.identity) show the last four characters of every ID, document and phone
# number. A search by a number's ending tells no more than that, to anyone who sees the row;
# a longer one tells what the mask hides, digit by digit, so it is a reveal: it matches in
# full only the rows the user may reveal, and each row it matches so is logged. Elsewhere only
# the last four characters of the search count, as far as the mask shows.
SHOWN_DIGITS = 4
LOGGED_MATCHES = 500  # rows one search logs at most (a search matching more pins little)
# A search box asks the server at each keystroke: the same user pinning the same person's same
# number again within this time is the same search, logged once.
SEARCH_LOG_QUIET = dt.timedelta(minutes=1)


def number_search_q(
    *, user: User, rows, text: str, ending: Sequence[str] = (), exact: Sequence[str] = ()
) -> Q:
    """The filter for `text` as the ending of the `ending` fields (or the whole of the `exact`
    fields: a document number) of `rows` (a queryset already narrowed to the user's view),
    as far as the user may see each row's numbers; logs the reveal a longer search amounts
    to (via "search", one entry per row and field it pins, as many rows as `rows` holds; the
    same row and field pinned again by the same user within a minute is not logged again, so
    a search box that asks at each keystroke logs one search)."""
    text = text.strip().replace(" ", "").upper()
    if not text or not (ending or exact):
        return Q(pk__in=[])
    short = text[-SHOWN_DIGITS:]
    seen_q = reduce(or_, [Q(**{f"{f}__endswith": short}) for f in ending], Q(pk__in=[]))
    beyond = len(text) > SHOWN_DIGITS
    pinned = [Q(**{f"{f}__endswith": text}) for f in ending if beyond]
    pinned += [Q(**{f: text}) for f in exact]
    if not pinned:
        return seen_q
    may_reveal = scope.scope_q(user, scope.REVEAL)
    pinned_q = may_reveal & reduce(or_, pinned)
    logged = rows.filter(pinned_q).order_by("pk")[:LOGGED_MATCHES]
    _search_reveals_log(user, logged, text, ending, exact)
    inside = pinned_q if beyond else pinned_q | (may_reveal & seen_q)
    if user.is_superuser:
        return inside
    return inside | (~may_reveal & seen_q)


def _search_reveals_log(user: User, rows, text: str, ending, exact) -> None:
    log = apps.get_model("accounts", "RevealLog")
    rows = list(rows)
    if not rows:
        return
    recent = set(
        log.objects.filter(
            user=user,
            via="search",
            at__gte=timezone.now() - SEARCH_LOG_QUIET,
            subject_type=rows[0]._meta.model_name,
            subject_id__in=[row.pk for row in rows],
        ).values_list("subject_id", "field")
    )
    entries = []
    for row in rows:
        for name in (*ending, *exact):
            value = getattr(row, name) or ""
            pinned = value.endswith(text) if name in ending else value == text
            if (row.pk, name) in recent:
                continue
            if value and pinned and (name in exact or len(text) > SHOWN_DIGITS):
                entry = log(
                    user=user,
                    subject_type=row._meta.model_name,
                    subject_id=row.pk,
                    subject_name=str(row)[:50],
                    field=name,
                    via="search",
                )
                entry.locate(row)
                entries.append(entry)
    log.objects.bulk_create(entries)
