"""Every write at a station: tubes opened and closed, scans one by one or in batches (family
codes through `family`, the rest through `batch`)."""

import datetime as dt
from collections.abc import Sequence

from django.db import (
    IntegrityError,
    transaction,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import DomainError
from bastion.testing.rounds.models import Shift, Station
from bastion.testing.rounds.services import open_shift
from bastion.testing.scans.batch import (
    MAX_BATCH,
    ScanInput,
    ScanOutcome,
    ScanRefused,
    batch_record,
    new_tube,
    tube_code_refusal,
    tube_refusal,
)
from bastion.testing.scans.codes import is_family_code, normalise_barcode
from bastion.testing.scans.family import scans_with_families
from bastion.testing.scans.models import Tube, TubeStatus


@transaction.atomic
def tube_open(
    *, actor, station: Station, barcode: str, single: bool = False, at: dt.datetime | None = None
) -> Tube:
    """Open a tube at a station by its barcode, for the round the station is open for.
    Opening the same tube again at the same station returns it."""
    barcode = normalise_barcode(barcode)
    at = at or timezone.now()
    shift = open_shift(station)
    if shift is None:
        raise DomainError(_("This station is not open."), field="station")
    found = Tube.objects.select_for_update().filter(barcode=barcode).first()
    if found is not None:
        refusal = tube_refusal(found, shift.round_id, station)
        if refusal:
            raise DomainError(refusal[1], field="tube")
        _current(shift, found)
        return found
    if refusal := tube_code_refusal(shift.round, barcode):
        raise DomainError(refusal[1], field="tube")
    tube = new_tube(
        round=shift.round, station=station, barcode=barcode, single=single, at=at, actor=actor
    )
    try:
        with transaction.atomic():
            tube.save()
    except IntegrityError:  # the same barcode opened elsewhere at the same moment
        raise DomainError(
            _("Tube %(tube)s is already in use.") % {"tube": barcode}, field="tube"
        ) from None
    _current(shift, tube)
    return tube


def _current(shift, tube: Tube) -> None:
    """Keep `tube` as the station's tube being filled (another device or a reload of the
    station page continues it)."""
    if shift.current_tube_id != tube.pk:
        Shift.objects.filter(pk=shift.pk).update(current_tube=tube)
        shift.current_tube = tube


@transaction.atomic
def tube_close(*, actor, tube: Tube, at: dt.datetime | None = None) -> Tube:
    """Close a tube before it is full (end of a shift, a queue run dry)."""
    if tube.status == TubeStatus.CLOSED:
        return tube
    at = at or timezone.now()
    changed = Tube.objects.filter(pk=tube.pk, status=TubeStatus.OPEN).update(
        status=TubeStatus.CLOSED, closed_at=at
    )
    tube.refresh_from_db()
    if changed:
        history.record(actor, tube, "update", {"status": ["open", "closed"]}, source="api")
    return tube


def scans_record(
    *, actor, station: Station, items: Sequence[ScanInput], source: str = "api"
) -> list[ScanOutcome]:
    """Record a batch of scans at one station, in the order given; one outcome per item.
    A scan whose client id is already stored is answered as before (replayed) and not
    written again; a refused scan changes nothing and does not stop the others. A family
    code stands for its household's members (`family`); the rest go as a batch (`batch`).
    The caller has checked that `actor` may change `station`."""
    if 0 < len(items) <= MAX_BATCH and any(is_family_code(i.code) for i in items):
        return scans_with_families(actor=actor, station=station, items=items, source=source)
    return batch_record(actor=actor, station=station, items=items, source=source)


def scan_record(*, actor, station: Station, item: ScanInput, source: str = "api") -> ScanOutcome:
    """One scan; a refusal raises ScanRefused (a DomainError naming the field)."""
    outcome = scans_record(actor=actor, station=station, items=[item], source=source)[0]
    if outcome.status == "refused":
        raise ScanRefused(outcome)
    return outcome
