"""What other modules plug into the outbreak response, without `incidents` importing them
(they stand above it: testing reads control levels, orders reach requests which read them).

* `register_opener(kind, fn)`: confirming a bundle calls `fn(actor=, bundle=, task=)` for the
  task of that kind, inside the confirmation's transaction (in a savepoint); it opens the
  work in its module and answers `Opened` (the row it made, its owner). A `DomainError` it
  raises leaves the task open with the reason as its note, for a person to do by hand.
* `register_round_counter(fn)`: `fn(node=, since=)` answers how many testing rounds since
  `since` sampled people under `node` and found every one of them negative (the lifting
  rule's "negative rounds")."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Opened:
    ref_id: int | None = None
    owner_id: int | None = None
    note: str = ""


OPENERS: dict[str, Callable[..., Opened]] = {}
ROUND_COUNTERS: list[Callable[..., int]] = []


def register_opener(kind: str, fn: Callable[..., Opened]) -> None:
    OPENERS[kind] = fn


def register_round_counter(fn: Callable[..., int]) -> None:
    if fn not in ROUND_COUNTERS:
        ROUND_COUNTERS.append(fn)
