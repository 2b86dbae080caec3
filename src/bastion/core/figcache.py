"""Figures computed once and read by many: the command pages (the daily report's dashboard, a
round's coverage) are opened far more often than their figures change, so a page is drawn
from figures kept in Django's cache alias `figures` (a database table, shared by every
process of `bastion serve` and every server over the same database) instead of counting again
at each view.

An entry is keyed by the figure set's name, its generation, the node, the part of the login's
scope that bears on that node, the language and the caller's own parts (the day, ...):

* two logins whose view covers the whole node share an entry; any other login (whose view is
  only a part of the node) has entries of its own, so nobody is shown figures counted over
  rows outside their scope;
* `figures_changed(name=...)` starts a new generation once the writing transaction commits:
  every entry of the set is left behind at once;
* an entry is used for `ttl` seconds after the moment it was computed for (the caller's
  `now`: tests move the clock instead of sleeping). When it is older, one request counts
  again while the others keep being answered from the old entry (or, before there is
  any, wait for it), so fifty commanders arriving together count once, not fifty times.

`figures_cached` answers (figures, computed at); pages show when they were computed.
"""

import datetime as dt
import hashlib
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import caches
from django.db import transaction
from django.utils.translation import get_language

from bastion.core.scope import ROLE_ACTIONS, VIEW, grants

T = TypeVar("T")

ALIAS = "figures"
TTL = 60  # seconds: "computed once per change or per minute"
RECOUNT_LOCK = 30  # seconds one request may take to count before another one tries
WAIT_COUNTED = 10  # seconds a request waits for figures another one is counting


def scope_token(user, node) -> str:
    """The part of a login's scope that decides what it sees under `node`: "all" when one of
    its view grants holds the node (the node's own column of that grant's level is the grant),
    else the grants themselves."""
    if user.is_superuser:
        return "all"
    held = sorted({(level, pk) for role, level, pk in grants(user) if role in ROLE_ACTIONS[VIEW]})
    if any(getattr(node, f"{level}_id", None) == pk for level, pk in held):
        return "all"
    return "only:" + ",".join(f"{level}{pk}" for level, pk in held)


def _generation_key(name: str) -> str:
    return f"gen:{name}"


def _key(*parts) -> str:
    return "fig:" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def figures_cached(
    *,
    name: str,
    node,
    user,
    parts: tuple = (),
    compute: Callable[[], T],
    now: dt.datetime,
    ttl: int = TTL,
) -> tuple[T, dt.datetime]:
    """`compute()`'s figures for `node` as `user` sees them, and the moment they were
    computed: from the cache while younger than `ttl` seconds and of the set's current
    generation, else counted now."""
    cache = caches[ALIAS]
    generation = cache.get(_generation_key(name))
    if generation is None:  # never changed yet, or dropped by the cache: a fresh one
        cache.add(_generation_key(name), uuid.uuid4().hex, None)
        generation = cache.get(_generation_key(name))
    key = _key(name, generation, node.pk, scope_token(user, node), get_language(), *parts)
    entry = cache.get(key)
    if entry is not None and dt.timedelta(0) <= now - entry[0] < dt.timedelta(seconds=ttl):
        return entry[1], entry[0]
    # The first request to take the lock counts; the others keep the old figures meanwhile,
    # or, when there are none yet, wait a moment for the ones being counted.
    if not cache.add(f"{key}:recount", 1, RECOUNT_LOCK):
        if entry is None:
            entry = _counted_meanwhile(cache, key)
        if entry is not None:
            return entry[1], entry[0]
    try:
        value = compute()
        # Kept a while past its ttl so that the old figures can stand in during a recount.
        cache.set(key, (now, value), ttl * 5)
    finally:
        cache.delete(f"{key}:recount")
    return value, now


def _counted_meanwhile(cache, key: str) -> tuple | None:
    """The entry another request is counting, once it is stored (None after WAIT_COUNTED)."""
    deadline = time.monotonic() + WAIT_COUNTED
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if (entry := cache.get(key)) is not None:
            return entry
    return None


def figures_changed(*, name: str) -> None:
    """The figures of set `name` changed: once the current transaction commits, every cached
    entry of the set is left behind (a new generation)."""
    transaction.on_commit(lambda: caches[ALIAS].set(_generation_key(name), uuid.uuid4().hex, None))
