"""Writes a device may retry: a row is created once per client-made id.

A phone on a bad network sends the same write again; the retry must return what the first one
made and write nothing. The one rule for a client id already used: the caller gets the row
back only if it may see that row (a login through the scope, a public credential such as a
household's link through its own `sees`); anyone else is refused with 409, so a guessed id
never reveals another's row.

The same id sent with a different request is a 409 that says so: the first write stores a
fingerprint of its request beside the id (`ClientKey`), and a later request with that id must
have the same one. An API request's fingerprint is its method, path and JSON body (keys
sorted, the body's own `client_id` left out), set for the request by `bastion.api` through
`fingerprinting`; a write outside the API (a web form) stores and checks none.

A batch of device writes (checkpoint entries, gate passages, scans) judges each item alone, so
each item has its own fingerprint (`item_fingerprint`: its fields, the client id left out,
with where it was sent), checked against the first write's (`keys_reused`) and stored with the
rows it made, in one multi-row statement (`keys_store`): an item whose client id was first
used with another payload is refused naming `client_id`, whether it came through the API or
a web form.
"""

import contextlib
import contextvars
import dataclasses
import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import scope
from bastion.core.bulk import upsert_rows
from bastion.core.errors import Conflict
from bastion.core.models import ClientKey

M = TypeVar("M", bound=models.Model)


_fingerprint: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "bastion_request_fingerprint", default=None
)


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """What a retry of the same request shares: method, path and the JSON body with its keys
    sorted and its top-level `client_id` left out (a body that is not JSON counts as bytes)."""
    try:
        data = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        data = body.hex()
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != "client_id"}
    canonical = json.dumps([method, path, data], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@contextlib.contextmanager
def fingerprinting(fingerprint: str | None) -> Iterator[None]:
    """Within this block, `create_once` stores and checks `fingerprint` with client ids."""
    token = _fingerprint.set(fingerprint)
    try:
        yield
    finally:
        _fingerprint.reset(token)


def retry_window() -> dt.timedelta:
    """How long a device may retry a write and get its first answer (the rows themselves keep
    their client id for ever; only the request's fingerprint is forgotten)."""
    return dt.timedelta(days=getattr(settings, "BASTION_CLIENT_KEY_DAYS", 7))


def client_keys_purge() -> int:
    """Delete the fingerprints older than the retry window (one indexed DELETE, run with each
    new key, so the table holds only the window's keys); returns how many went. A retry after
    the window still gets its row back through the row's own client id, unchecked."""
    cutoff = timezone.now() - retry_window()
    return ClientKey.objects.filter(created_at__lt=cutoff).delete()[0]


def _label(model) -> str:
    return model._meta.label_lower


def _same_request(model, client_id: UUID) -> None:
    """Refuse (409) a client id whose first request was a different one."""
    fingerprint = _fingerprint.get()
    if fingerprint is None:
        return
    first = ClientKey.objects.filter(model=_label(model), client_id=client_id).first()
    if first is not None and first.fingerprint != fingerprint:
        raise Conflict(reuse_message(), field="client_id")


def caller_sees(caller, row: models.Model) -> bool:
    """Whether `caller` may see `row`: a credential that is not a login (it has `sees`)
    answers for itself; a login asks the scope, on the row's own ancestor columns."""
    if hasattr(caller, "sees"):
        return caller.sees(row)
    return scope.allows(caller, scope.VIEW, row)


def replayed(model: type[M], client_id: UUID | None, caller) -> M | None:
    """The row an earlier request with this client id made, if any; refused (409) when the
    caller may not see it."""
    if client_id is None:
        return None
    found = model.objects.filter(client_id=client_id).first()
    if found is not None and not caller_sees(caller, found):
        raise Conflict(_("This client id was already used for another record."), field="client_id")
    if found is not None:
        _same_request(model, client_id)
    return found


def create_once(
    model: type[M], client_id: UUID | None, caller, create: Callable[[], M]
) -> tuple[M, bool]:
    """Create a row once per client-made id: a retried request with the same `client_id`
    returns the row the first one made (and `False`), writing nothing. `create` calls the
    service; the id is stored on the row in the same transaction, with the request's
    fingerprint; the same id with a different request is refused (409)."""
    if (found := replayed(model, client_id, caller)) is not None:
        return found, False
    try:
        with transaction.atomic():
            obj = create()
            if client_id is not None and obj.client_id != client_id:
                model.objects.filter(pk=obj.pk).update(client_id=client_id)
                obj.client_id = client_id
            if client_id is not None and (fingerprint := _fingerprint.get()) is not None:
                ClientKey.objects.update_or_create(
                    model=_label(model), client_id=client_id, defaults={"fingerprint": fingerprint}
                )
                client_keys_purge()
    except IntegrityError:
        # Two copies of the same request raced; the other one won.
        if (found := replayed(model, client_id, caller)) is None:
            raise
        return found, False
    return obj, True


def created_once(model: type[M], *, caller: Callable[[dict], object] = lambda kw: kw["actor"]):
    """`create_once` around a keyword-only service that creates one `model` row from its
    `client_id` argument; `caller` picks the caller from the service's arguments."""

    def wrap(service: Callable[..., M]) -> Callable[..., M]:
        @functools.wraps(service)
        def run(**kwargs) -> M:
            client_id = kwargs.get("client_id")
            obj, _created = create_once(model, client_id, caller(kwargs), lambda: service(**kwargs))
            return obj

        return run

    return wrap


# ------------------------------------------------------------------------ items of a batch


def item_fingerprint(item, *where) -> str:
    """What a retry of one batch item shares: its fields (a dataclass, or a dict) without its
    `client_id`, and `where` it was sent (the place, the station), keys sorted."""
    data = dict(vars(item)) if dataclasses.is_dataclass(item) else dict(item)
    data.pop("client_id", None)
    canonical = json.dumps([data, where], sort_keys=True, ensure_ascii=False, default=_plain)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _plain(value):
    """A nested dataclass as its fields (no deep copy: `asdict` cost a batch of 100 entries
    6 ms), anything else (a time, a UUID, a Decimal) as its text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return vars(value)
    return str(value)


def reuse_message() -> str:
    return _(
        "This client id was already used for a different request; a new record needs "
        "a new client id, a retry the same request."
    )


def keys_reused(model, fingerprints: Mapping[UUID, str]) -> set[UUID]:
    """Of these client ids (each with its item's fingerprint), those whose first write of a
    `model` row was a different item (one indexed query)."""
    if not fingerprints:
        return set()
    stored = ClientKey.objects.filter(
        model=_label(model), client_id__in=list(fingerprints)
    ).values_list("client_id", "fingerprint")
    return {client_id for client_id, first in stored if first != fingerprints[client_id]}


def keys_store(model, fingerprints: Mapping[UUID, str]) -> None:
    """Store the fingerprints of the items a batch wrote now (one multi-row statement, in the
    batch's transaction), so that a later item with one of their client ids is compared; the
    keys past the retry window go (one indexed DELETE)."""
    if not fingerprints:
        return
    now = timezone.now()
    label = _label(model)
    upsert_rows(
        ClientKey,
        ("model", "client_id", "fingerprint", "created_at"),
        [(label, client_id, fp, now) for client_id, fp in fingerprints.items()],
        conflict=("model", "client_id"),
        update=("fingerprint", "created_at"),
    )
    client_keys_purge()
