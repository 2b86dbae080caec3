"""The one write of the finder: a crew's count of the people waiting at its station."""

import datetime as dt

from django.db import (
    transaction,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import DomainError
from bastion.testing.rounds.models import Shift, Station

# --------------------------------------------------------------------- queue (site finder)

QUEUE_MAX = 2000  # people: a count above this is a typing error


@transaction.atomic
def station_queue_report(
    *, actor, station: Station, length: int, at: dt.datetime | None = None, source: str = "web"
) -> Station:
    """A crew's count of the people waiting in front of its open station. The public site
    finder bases its wait on it for the next 15 minutes (see `testing.finder`)."""
    if isinstance(length, bool) or not isinstance(length, int) or not 0 <= length <= QUEUE_MAX:
        raise DomainError(
            _("Enter the number of people waiting, from 0 to %(max)s.") % {"max": QUEUE_MAX},
            field="queue_length",
        )
    if not Shift.objects.filter(station=station, closed_at__isnull=True).exists():
        raise DomainError(_("The station is not open."), field="station")
    before = station.queue_length
    station.queue_length = length
    at = at or timezone.now()
    station.queue_reported_at = at
    station.save(update_fields=["queue_length", "queue_reported_at"])
    changes = {"queue_length": [before, length], "queue_reported_at": [None, str(at)]}
    history.record(actor, station, "update", changes, source=source)
    return station
