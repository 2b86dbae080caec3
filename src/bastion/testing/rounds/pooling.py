"""Pooling by control level: which tube a resident's swab must go into.

A round pools by the control level of each resident's home (`incidents`): in sealed areas one
tube per person, or one per household (`Round.sealed_tube`); in controlled and precaution
areas pools of their own sizes (`Round.controlled_pool_size`, `precaution_pool_size`: 10 and
20 by default); elsewhere the round's `pool_size`.

On the scan path (`services._evaluate`) a batch builds one `TubePooling` from its people (one
query: the active control areas on their ancestors) and asks it per scan:

* an empty tube (not a single tube) takes the pooling of its first person: its kind and
  capacity follow their level, and a household tube is bound to their household;
* a single tube always fits (one person alone is never wrong; retests use them);
* otherwise the tube must be what the person needs, the same kind and, for a pool, the same
  size; a household tube takes its own household only. A wrong tube is refused, naming the
  person's level and the tube they need.

Levels are those active when the batch is evaluated."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count
from django.utils.translation import gettext as _

from bastion.geo.models import Presence, Resident
from bastion.incidents.models import ControlLevel
from bastion.incidents.queries import active_levels, ancestor_ids, strictest_of
from bastion.testing.rounds.models import MAX_TUBE_CAPACITY, Round
from bastion.testing.scans.models import Tube, TubeKind


@dataclass(frozen=True)
class Need:
    kind: str
    capacity: int  # for a household tube: 0, the household's size decides


def need(round_: Round, level: str | None) -> Need:
    """The tube a resident of `level` (None: no control level) needs in `round_`."""
    if level == ControlLevel.SEALED:
        if round_.sealed_tube == TubeKind.HOUSEHOLD:
            return Need(TubeKind.HOUSEHOLD, 0)
        return Need(TubeKind.SINGLE, 1)
    size = {
        ControlLevel.CONTROLLED: round_.controlled_pool_size,
        ControlLevel.PRECAUTION: round_.precaution_pool_size,
    }.get(level, round_.pool_size)
    return Need(TubeKind.SINGLE, 1) if size == 1 else Need(TubeKind.POOL, size)


def tube_words(kind: str, capacity: int) -> str:
    if kind == TubeKind.SINGLE:
        return _("a single tube")
    if kind == TubeKind.HOUSEHOLD:
        return _("a household tube")
    return _("a %(n)s-in-1 pooled tube") % {"n": capacity}


def area_words(level: str | None) -> str:
    return {
        ControlLevel.SEALED: _("a sealed area"),
        ControlLevel.CONTROLLED: _("a controlled area"),
        ControlLevel.PRECAUTION: _("a precaution area"),
    }.get(level, "")


def pooled(tube: Tube) -> dict:
    """The columns the pooling sets on a tube (written with its fill)."""
    return {"kind": tube.kind, "capacity": tube.capacity, "household_id": tube.household_id}


class TubePooling:
    """The pooling of one batch of scans: its people's levels, read in one query."""

    def __init__(self, people: Iterable, levels: dict[int, str] | None = None) -> None:
        """`levels`: {node id: level} of the active areas over these people, when the caller
        read them with the people (else one query here)."""
        people = list(people)
        if levels is None:
            levels = active_levels(i for p in people for i in ancestor_ids(p.located))
        self.levels = levels
        self._homes: dict[int, tuple[int, int]] | None = None  # resident → (household, size)
        self._sealed = [p.id for p in people if self.level_of(p) == ControlLevel.SEALED]

    def level_of(self, person) -> str | None:
        if person is None or not self.levels:
            return None
        return strictest_of(ancestor_ids(person.located), self.levels)

    def _home(self, person) -> tuple[int, int]:
        """(household id, residents at home in it) of a sealed-area resident; read for all
        of the batch's sealed-area residents at the first ask (two queries)."""
        if self._homes is None:
            rows = dict(
                Resident.objects.filter(pk__in=self._sealed).values_list("pk", "household_id")
            )
            sizes = dict(
                Resident.objects.filter(household_id__in=set(rows.values()), presence=Presence.HOME)
                .values("household_id")
                .annotate(n=Count("id"))
                .values_list("household_id", "n")
            )
            self._homes = {pk: (h, sizes.get(h, 1)) for pk, h in rows.items()}
        return self._homes[person.id]

    def refusal(
        self, round_: Round, person, tube: Tube, filled: int, *, shown=None
    ) -> tuple[str, str] | None:
        """(reason, message) when `person` may not go into `tube` (holding `filled` people
        so far in this batch); None when they may. An empty tube is fitted to them. `shown`
        (`testing.scans.shown.person_shown`) names the person; outside the viewer's view the
        message names the tube they need and not their control level."""
        level = self.level_of(person)
        want = need(round_, level)
        if filled == 0 and tube.kind != TubeKind.SINGLE:
            tube.kind, tube.capacity, tube.household_id = want.kind, want.capacity, None
            if want.kind == TubeKind.HOUSEHOLD:
                household, size = self._home(person)
                tube.household_id, tube.capacity = household, max(1, min(size, MAX_TUBE_CAPACITY))
            return None
        if tube.kind == TubeKind.SINGLE:
            return None
        name = shown.name if shown is not None else _("This person")
        if tube.kind == want.kind == TubeKind.HOUSEHOLD:
            if tube.household_id == self._home(person)[0]:
                return None
            return "tube_other_household", _(
                "Tube %(tube)s holds another household: open a new tube for %(name)s's household."
            ) % {"tube": tube.barcode, "name": name}
        if tube.kind == want.kind and tube.capacity == want.capacity:
            return None
        words = {
            "name": name,
            "area": area_words(level),
            "needed": tube_words(want.kind, want.capacity),
            "tube": tube.barcode,
            "kind": tube_words(tube.kind, tube.capacity),
        }
        if shown is not None and not shown.in_view:
            message = _("%(name)s needs %(needed)s (tube %(tube)s is %(kind)s).")
        elif level is None:
            message = _(
                "%(name)s is not under a control level: use %(needed)s (tube %(tube)s is %(kind)s)."
            )
        else:
            message = _("%(name)s lives in %(area)s: use %(needed)s (tube %(tube)s is %(kind)s).")
        return "wrong_tube_kind", message % words
