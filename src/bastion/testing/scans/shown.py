"""What a reply about a scanned person shows, decided in one place for the scan and its
replay, every refusal, a family code and the traceback of the tube.

A station is set up for a round, and the round's area is often wider than the station
login's own view (a street's round sampled by a community's staff). A station may learn of a
person outside its view what it needs to sample them and no more: a masked name (so the
operator can call them) beside the masked ID number it read from their card, and whether
they were taken. Not their resident id (a handle for every other read), nor their home, nor
their control level. In its view a person is shown as everywhere else: name, masked number,
id."""

from dataclasses import dataclass
from types import SimpleNamespace

from bastion.core import scope
from bastion.core.levels import LEVEL_ORDER
from bastion.geo.identity import mask_id_number, mask_name


@dataclass(frozen=True)
class PersonShown:
    name: str
    id_number: str  # masked
    resident_id: int | None
    in_view: bool  # whether their home, level and id may be named


def person_shown(
    viewer, located, *, name: str, number: str = "", resident_id: int | None = None
) -> PersonShown:
    """What a reply to `viewer` shows of a person living at `located` (a located row, or the
    tuple of its ancestor ids in level order). The system (no login) sees everyone; `located`
    None (a walk-in known to nobody here) is as the station typed them. No query: the
    viewer's grants are cached on the login."""
    if isinstance(located, tuple):
        located = SimpleNamespace(
            **{f"{level}_id": pk for level, pk in zip(LEVEL_ORDER, located, strict=False)}
        )
    in_view = (
        located is None
        or not getattr(viewer, "is_authenticated", False)
        or scope.allows(viewer, scope.VIEW, located)
    )
    if in_view:
        return PersonShown(name, mask_id_number(number), resident_id, True)
    return PersonShown(mask_name(name), mask_id_number(number), None, False)
