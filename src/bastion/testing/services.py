"""Every write of mass testing: rounds, sites, stations and their staff, shifts, tubes, scans,
lab results. One function per use case, keyword-only, transactional; a refusal raises
`DomainError` naming the field (and row) and changes nothing.

Scans (`scans_record`) are the hot path: one transaction per batch, a fixed handful of
queries whatever the batch size (replays, shifts, residents, tubes locked in id order,
already-sampled, multi-row INSERT, one conditional UPDATE per touched tube). The guards are
in the database (see models), and a batch that loses a race to a concurrent writer (a unique
index or a tube's fill moved under it) is rolled back whole and evaluated again, so no pool
is overfilled, no resident counted twice and no acknowledged scan lost.
"""

import contextlib
import datetime as dt
import re
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from dataclasses import field as _dc_field

from django.core.exceptions import ValidationError
from django.db import (
    IntegrityError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history, rawsql
from bastion.core.bulk import insert_rows_returning
from bastion.core.errors import DomainError, Problem
from bastion.geo.identity import mask_id_number, normalise_mobile, parse_id_number
from bastion.geo.models import LEVEL_ORDER, CommandZone, Node, Resident
from bastion.incidents.queries import active_area_join
from bastion.ledgers.reading import cell_text, sheet_read
from bastion.people.models import Person
from bastion.testing import response
from bastion.testing.codes import documents_resolve, is_family_code, read_scanned
from bastion.testing.models import (
    CUSTODY_HOURS,
    DEFAULT_DEADLINE,
    POOL_SIZES,
    Result,
    ResultImport,
    Retest,
    Round,
    Scan,
    ScanKind,
    Shift,
    Site,
    SiteArea,
    SitePost,
    StaffRole,
    Station,
    StationKind,
    Tube,
    TubeKind,
    TubeStatus,
    WalkIn,
)
from bastion.testing.pooling import TubePooling, pooled

MAX_BATCH = 200  # scans per batch call
ATTEMPTS = 6  # evaluations of a batch that lost a race before giving up
CLOCK_SKEW = dt.timedelta(minutes=5)  # a device's clock may run this far ahead
SHIFT_GRACE = dt.timedelta(minutes=10)  # a scan this long before its shift opened counts
LOOKUP_CHUNK = 500
_BARCODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,39}$")
_ANCESTORS = tuple(f"{level}_id" for level in LEVEL_ORDER)
ROUND_FIELDS = (
    "name",
    "node_id",
    "starts_at",
    "ends_at",
    "pool_size",
    "deadline",
    "sealed_tube",
    "controlled_pool_size",
    "precaution_pool_size",
    "pack_within",
    "seal_within",
    "receive_within",
)
SITE_FIELDS = ("name", "node_id", "address", "opens_at", "closes_at")
SITE_POST_FIELDS = ("person_id", "role", "site_id", "station_id", "started_on", "ended_on")


def _locate_at(obj, source) -> None:
    for column in _ANCESTORS:
        setattr(obj, column, getattr(source, column))


def barcode_text(raw: str | None) -> str:
    """A barcode as stored (trimmed, uppercase) but unchecked: what a lookup searches for,
    where a malformed code simply finds nothing."""
    return (raw or "").strip().upper()


def normalise_barcode(raw: str) -> str:
    """A tube barcode as stored: trimmed, uppercase; 4–40 letters, digits or dashes."""
    value = barcode_text(raw)
    if not _BARCODE_RE.match(value):
        raise DomainError(_("A tube barcode is 4 to 40 letters, digits or dashes."), field="tube")
    return value


# ---------------------------------------------------------------------------------- rounds


@transaction.atomic
def round_open(
    *,
    actor,
    node: Node,
    name: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    pool_size: int = 10,
    deadline: dt.datetime | None = None,
    sealed_tube: str = "single",
    controlled_pool_size: int = 10,
    precaution_pool_size: int = 20,
    pack_within: int = 1,
    seal_within: int = 2,
    receive_within: int = 2,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> Round:
    """Decide a testing round over `node`'s subtree, with its deadline (24 hours after the
    start by default), its pooling by control level (`testing.pooling`) and the hours each
    custody step may take before it is overdue."""
    problems = []
    if not name.strip():
        problems.append(Problem("name", _("Name is required.")))
    for field_name, size in (
        ("pool_size", pool_size),
        ("controlled_pool_size", controlled_pool_size),
        ("precaution_pool_size", precaution_pool_size),
    ):
        if size not in POOL_SIZES:
            problems.append(Problem(field_name, _("Pooling size must be 1, 5, 10 or 20.")))
    least, most = CUSTODY_HOURS
    for field_name, hours in (
        ("pack_within", pack_within),
        ("seal_within", seal_within),
        ("receive_within", receive_within),
    ):
        if not least <= hours <= most:
            problems.append(
                Problem(
                    field_name,
                    _("Between %(least)s and %(most)s hours.") % {"least": least, "most": most},
                )
            )
    if sealed_tube not in ("single", "household"):
        problems.append(
            Problem("sealed_tube", _("Sealed areas use a single tube or one per household."))
        )
    deadline = deadline or starts_at + DEFAULT_DEADLINE
    if deadline <= starts_at:
        problems.append(Problem("deadline", _("The deadline comes after the start.")))
    if ends_at <= starts_at:
        problems.append(Problem("ends_at", _("A round must end after it starts.")))
    if node.level in ("building", "unit"):
        problems.append(Problem("node", _("A round covers a grid or a larger area.")))
    if problems:
        raise DomainError(problems)
    found = Round.objects.filter(client_id=client_id).first() if client_id else None
    if found is not None:
        return found
    round_ = Round(
        node=node,
        name=name.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        pool_size=pool_size,
        deadline=deadline,
        sealed_tube=sealed_tube,
        controlled_pool_size=controlled_pool_size,
        precaution_pool_size=precaution_pool_size,
        pack_within=pack_within,
        seal_within=seal_within,
        receive_within=receive_within,
        created_by=actor if _user(actor) else None,
        client_id=client_id,
    )
    round_.locate(node)
    round_.save()
    history.record_created(actor, round_, ROUND_FIELDS, source=source)
    return round_


def _user(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


@transaction.atomic
def round_close(
    *, actor, round: Round, at: dt.datetime | None = None, source: str = "web"
) -> Round:
    """End a round now (before its planned end); its stations' shifts close with it."""
    at = at or timezone.now()
    if at >= round.ends_at:
        raise DomainError(_("This round has already ended."), field="ends_at")
    if at <= round.starts_at:
        raise DomainError(_("A round cannot end before it starts."), field="ends_at")
    before = history.snapshot(round, ROUND_FIELDS)
    round.ends_at = at
    round.save(update_fields=["ends_at"])
    Shift.objects.filter(round=round, closed_at__isnull=True).update(closed_at=at)
    history.record(
        actor,
        round,
        "update",
        history.diff(before, history.snapshot(round, ROUND_FIELDS)),
        source=source,
    )
    return round


# ----------------------------------------------------------------------------------- sites


@transaction.atomic
def site_create(
    *,
    actor,
    node: Node,
    name: str,
    address: str,
    opens_at: dt.time,
    closes_at: dt.time,
    plan: str = "",
    buildings: Iterable[Node] = (),
    zones: Iterable[CommandZone] = (),
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> Site:
    """A sampling site standing in `node` (a street or below), serving buildings and zones
    of that street."""
    buildings, zones = list(buildings), list(zones)
    problems = []
    if not name.strip():
        problems.append(Problem("name", _("Name is required.")))
    if not address.strip():
        problems.append(Problem("address", _("Address is required.")))
    if node.street_id is None:
        problems.append(Problem("node", _("A site stands in a street or below.")))
    for b in buildings:
        if b.level != "building" or b.street_id != node.street_id:
            problems.append(
                Problem(
                    "buildings", _("%(name)s is not a building of this street.") % {"name": b.name}
                )
            )
    for z in zones:
        if z.street_id != node.street_id:
            problems.append(
                Problem("zones", _("Zone %(name)s is not in this street.") % {"name": z.name})
            )
    if problems:
        raise DomainError(problems)
    found = Site.objects.filter(client_id=client_id).first() if client_id else None
    if found is not None:
        return found
    if Site.objects.filter(street_id=node.street_id, name=name.strip()).exists():
        raise DomainError(_("This street already has a site of that name."), field="name")
    site = Site(
        node=node,
        name=name.strip(),
        address=address.strip(),
        opens_at=opens_at,
        closes_at=closes_at,
        plan=plan,
        client_id=client_id,
    )
    site.locate(node)
    site.save()
    SiteArea.objects.bulk_create(
        [SiteArea(site=site, building=b) for b in buildings]
        + [SiteArea(site=site, zone=z) for z in zones]
    )
    history.record_created(actor, site, SITE_FIELDS, source=source)
    return site


@transaction.atomic
def station_add(
    *, actor, site: Site, name: str, client_id: uuid.UUID | None = None, source: str = "web"
) -> Station:
    if not name.strip():
        raise DomainError(_("Name is required."), field="name")
    found = Station.objects.filter(client_id=client_id).first() if client_id else None
    if found is not None:
        return found
    if Station.objects.filter(site=site, name=name.strip()).exists():
        raise DomainError(_("This site already has a station of that name."), field="name")
    station = Station(site=site, name=name.strip(), kind=StationKind.FIXED, client_id=client_id)
    _locate_at(station, site)
    station.save()
    history.record(actor, station, "create", {"name": [None, station.name]}, source=source)
    return station


@transaction.atomic
def home_team_add(
    *, actor, node: Node, name: str, client_id: uuid.UUID | None = None, source: str = "web"
) -> Station:
    """A home-sampling team: a station without a site, located at its grid (or community)."""
    if node.level not in ("community", "grid"):
        raise DomainError(_("A home-sampling team serves a community or a grid."), field="node")
    if not name.strip():
        raise DomainError(_("Name is required."), field="name")
    found = Station.objects.filter(client_id=client_id).first() if client_id else None
    if found is not None:
        return found
    station = Station(name=name.strip(), kind=StationKind.HOME, client_id=client_id)
    station.locate(node)
    station.save()
    history.record(actor, station, "create", {"name": [None, station.name]}, source=source)
    return station


@transaction.atomic
def site_post_assign(
    *,
    actor,
    person: Person,
    role: str,
    site: Site | None = None,
    station: Station | None = None,
    started_on: dt.date | None = None,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> SitePost:
    """Put a person on a site (leader, station head, sampler...) or on a station."""
    if role not in StaffRole.values:
        raise DomainError(_("Unknown post."), field="role")
    if station is not None:
        if site is not None and station.site_id != site.pk:
            raise DomainError(_("This station is not at this site."), field="station")
        site = station.site
    if site is None and station is None:
        raise DomainError(_("A post is at a site or a station."), field="site")
    if role == StaffRole.SITE_LEADER and site is None:
        raise DomainError(_("A site leader leads a site."), field="site")
    found = SitePost.objects.filter(client_id=client_id).first() if client_id else None
    if found is not None:
        return found
    post = SitePost(
        site=site,
        station=station if role != StaffRole.SITE_LEADER else None,
        person=person,
        role=role,
        started_on=started_on or timezone.localdate(),
        client_id=client_id,
    )
    _locate_at(post, station or site)
    try:
        with transaction.atomic():
            post.save()
    except IntegrityError:
        raise DomainError(_("This post is already held; end it first."), field="role") from None
    history.record_created(actor, post, SITE_POST_FIELDS, source=source)
    return post


@transaction.atomic
def site_post_end(
    *, actor, post: SitePost, ended_on: dt.date | None = None, source: str = "web"
) -> SitePost:
    if post.ended_on is not None:
        raise DomainError(_("This post has already ended."), field="ended_on")
    ended_on = ended_on or timezone.localdate()
    if ended_on < post.started_on:
        raise DomainError(_("A post cannot end before it started."), field="ended_on")
    before = history.snapshot(post, SITE_POST_FIELDS)
    post.ended_on = ended_on
    post.save(update_fields=["ended_on"])
    history.record(
        actor,
        post,
        "update",
        history.diff(before, history.snapshot(post, SITE_POST_FIELDS)),
        source=source,
    )
    return post


# ---------------------------------------------------------------------------------- shifts


def _round_area(round: Round) -> tuple[str, int]:
    """The ancestor column and id that a site or station serving `round` holds: the round's
    node for a round over a street or more; its street for one over part of a street (a
    street's sites and stations work all of it)."""
    level = round.node.level
    if LEVEL_ORDER.index(level) <= LEVEL_ORDER.index("street"):
        return f"{level}_id", round.node_id
    return "street_id", round.street_id


def serves(located: Site | Station, round: Round) -> bool:
    """Whether a site or station works `round` (see `_round_area`)."""
    column, node_id = _round_area(round)
    return getattr(located, column) == node_id


def round_area_q(round: Round, prefix: str = "") -> Q:
    """`serves` as a filter on sites or stations, or through `prefix` (e.g. "site__") on
    rows pointing at them."""
    column, node_id = _round_area(round)
    return Q(**{f"{prefix}{column}": node_id})


@transaction.atomic
def station_open(
    *, actor, station: Station, round: Round, at: dt.datetime | None = None, source: str = "web"
) -> Shift:
    """Open a station for a round. Opening it again for the same round returns its shift."""
    at = at or timezone.now()
    current = (
        Shift.objects.select_for_update()
        .filter(station=station, closed_at__isnull=True)
        .select_related("round")
        .first()
    )
    if current is not None:
        if current.round_id == round.pk:
            return current
        raise DomainError(
            _("This station is open for %(round)s; close it first.") % {"round": current.round},
            field="station",
        )
    if not round.is_open(at):
        raise DomainError(_("This round is not running now."), field="round")
    if not serves(station, round):
        raise DomainError(_("This station is outside the round's area."), field="round")
    shift = Shift(
        station=station, round=round, opened_at=at, opened_by=actor if _user(actor) else None
    )
    _locate_at(shift, station)
    try:
        with transaction.atomic():
            shift.save()
    except IntegrityError:  # opened by someone else at the same moment
        return Shift.objects.get(station=station, closed_at__isnull=True)
    history.record(actor, shift, "create", {"round_id": [None, round.pk]}, source=source)
    return shift


@transaction.atomic
def station_close(
    *, actor, station: Station, at: dt.datetime | None = None, source: str = "web"
) -> Shift | None:
    """Close the station's shift and its open tubes (they go to the lab as they are)."""
    at = at or timezone.now()
    shift = (
        Shift.objects.select_for_update().filter(station=station, closed_at__isnull=True).first()
    )
    if shift is None:
        return None
    shift.closed_at = max(at, shift.opened_at)
    shift.save(update_fields=["closed_at"])
    Tube.objects.filter(station=station, round_id=shift.round_id, status=TubeStatus.OPEN).update(
        status=TubeStatus.CLOSED, closed_at=shift.closed_at
    )
    history.record(
        actor, shift, "update", {"closed_at": [None, str(shift.closed_at)]}, source=source
    )
    return shift


def open_shift(station: Station) -> Shift | None:
    return (
        Shift.objects.filter(station=station, closed_at__isnull=True)
        .select_related("round", "round__node")
        .first()
    )


# ----------------------------------------------------------------------------------- tubes


def _new_tube(
    *, round: Round, station: Station, barcode: str, single: bool, at: dt.datetime, actor
) -> Tube:
    capacity = 1 if single else round.pool_size
    tube = Tube(
        round=round,
        station=station,
        barcode=barcode,
        capacity=capacity,
        kind=TubeKind.SINGLE if capacity == 1 else TubeKind.POOL,
        opened_at=at,
        opened_by_id=actor.pk if _user(actor) else None,
    )
    _locate_at(tube, station)
    return tube


def _tube_refusal(
    tube: "Tube | _SeenTube", round_id: int, station: Station
) -> tuple[str, str] | None:
    """(reason, message) if `tube` cannot take a scan of this round at this station."""
    if tube.round_id != round_id:
        return "tube_other_round", _("Tube %(tube)s was used in another round.") % {
            "tube": tube.barcode
        }
    if tube.station_id != station.pk:
        return "tube_other_station", _("Tube %(tube)s is open at another station.") % {
            "tube": tube.barcode
        }
    if tube.status != TubeStatus.OPEN:
        if tube.filled >= tube.capacity:
            return "tube_full", _("Tube %(tube)s is full (%(n)s/%(n)s): open a new tube.") % {
                "tube": tube.barcode,
                "n": tube.capacity,
            }
        return "tube_closed", _("Tube %(tube)s is closed: open a new tube.") % {
            "tube": tube.barcode
        }
    return None


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
        refusal = _tube_refusal(found, shift.round_id, station)
        if refusal:
            raise DomainError(refusal[1], field="tube")
        return found
    tube = _new_tube(
        round=shift.round, station=station, barcode=barcode, single=single, at=at, actor=actor
    )
    try:
        with transaction.atomic():
            tube.save()
    except IntegrityError:  # the same barcode opened elsewhere at the same moment
        raise DomainError(
            _("Tube %(tube)s is already in use.") % {"tube": barcode}, field="tube"
        ) from None
    return tube


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


# ----------------------------------------------------------------------------------- scans


@dataclass(frozen=True)
class ScanInput:
    """One scan as a device sends it. `code` is an ID number or a resident code; `tube` the
    barcode of the tube (opened at this station if it is new). A walk-in (an ID number
    unknown here) is taken only with `walk_in` set, so a mistyped number is not."""

    client_id: uuid.UUID
    tube: str
    code: str
    at: dt.datetime | None = None
    walk_in: bool = False
    name: str = ""
    phone: str = ""
    single: bool = False  # a new tube opened by this scan holds one person
    manual: bool = False  # typed in or picked by name at the station, not scanned

    def __post_init__(self) -> None:
        # A device clock without an offset is on local time (TIME_ZONE): every caller gets an
        # aware time to compare with now and with the shifts.
        if self.at is not None and timezone.is_naive(self.at):
            object.__setattr__(self, "at", timezone.make_aware(self.at))


@dataclass
class ScanOutcome:
    client_id: uuid.UUID
    status: str  # "accepted", "replayed" or "refused"
    reason: str = ""  # why refused: station_closed, tube_full, already_sampled, ...
    field: str | None = None
    message: str = ""
    tube: str = ""  # the tube the person is in (for already_sampled: the earlier tube)
    filled: int | None = None
    capacity: int | None = None
    tube_closed: bool = False
    kind: str = ""
    resident_id: int | None = None
    name: str = ""
    id_number: str = ""  # masked
    retest: bool = False
    scan_id: int | None = None
    at: dt.datetime | None = None
    manual: bool = False
    members: list["ScanOutcome"] = _dc_field(default_factory=list)  # a family code's scans

    @property
    def ok(self) -> bool:
        return self.status != "refused"


class ScanRefused(DomainError):
    """A single scan refused; carries the outcome (reason, and the tube for a resident
    already sampled)."""

    def __init__(self, outcome: ScanOutcome):
        self.outcome = outcome
        super().__init__([Problem(outcome.field, outcome.message)])


class _LostRace(Exception):
    """A tube's fill moved under the batch: evaluate the batch again."""


@dataclass
class _TubeState:
    tube: Tube
    new: bool
    filled: int
    status: str
    closed_at: dt.datetime | None = None


@dataclass
class _Person:
    id: int
    id_number: str
    name: str
    located: tuple = field(default_factory=tuple)


@dataclass
class _Accepted:
    index: int
    client_id: uuid.UUID
    round_id: int
    state: _TubeState
    kind: str
    resident_id: int | None
    walk_in: WalkIn | None
    retest: bool
    at: dt.datetime
    located: tuple
    name: str
    number: str
    scan_id: int | None = None
    filled: int = 0  # the tube's fill right after this scan
    closed: bool = False
    manual: bool = False


SCAN_COLUMNS = (
    "client_id",
    "round_id",
    "tube_id",
    "station_id",
    "kind",
    "resident_id",
    "walk_in_id",
    "retest",
    "at",
    "recorded_at",
    "by_id",
    "result",
    "voided_at",
    "manual",
    *_ANCESTORS,
)


# The hot path's reads are plain SQL (`core.rawsql`): the ORM spent more time compiling these
# few statements than the database spent running them.


# A shift open at some time between two moments (the parameters: the end, then the start).
_SHIFT_OPEN = "s.opened_at <= %s AND (s.closed_at IS NULL OR s.closed_at >= %s)"
# How much wider than the scans' times `station_for_scans` reads shifts: `_scans_apply` stamps
# undated scans a moment later, and any window it asks inside this one needs no second read.
_SHIFTS_MARGIN = dt.timedelta(minutes=1)


def _shifts_of(rows: list[list]) -> list[Shift]:
    """Shifts with their rounds and the rounds' areas, from (shift, round, node) rows."""
    shifts = []
    for shift, round_, node in rows:
        if shift.pk is None:  # a station without a shift in the window (LEFT JOIN)
            continue
        round_.node = node
        shift.round = round_
        shifts.append(shift)
    return shifts


def _shifts_around(station: Station, start: dt.datetime, end: dt.datetime) -> list[Shift]:
    """The station's shifts open at some time between `start` and `end`, latest first, with
    their rounds and the rounds' areas: those read with the station when they cover it."""
    read = getattr(station, "_shifts_read", None)
    if read is not None and read[0] <= start and end <= read[1]:
        return read[2]
    stamp = connection.ops.adapt_datetimefield_value
    rows = rawsql.instances(
        f"SELECT {{columns}} FROM {rawsql.table(Shift)} s "
        f"JOIN {rawsql.table(Round)} r ON r.id = s.round_id "
        f"JOIN {rawsql.table(Node)} n ON n.id = r.node_id "
        f"WHERE s.station_id = %s AND {_SHIFT_OPEN} ORDER BY s.opened_at DESC",
        [station.pk, stamp(end), stamp(start)],
        (Shift, "s"),
        (Round, "r"),
        (Node, "n"),
    )
    return _shifts_of(rows)


def station_for_scans(pk: int, times: Sequence[dt.datetime | None]) -> Station | None:
    """A station by its id, unscoped (the caller checks the scope on the row), read in one
    statement with its shifts around the times of the scans about to be recorded there
    (None: now), which `scans_record` then takes instead of reading them again."""
    now = timezone.now()
    stamped = [t or now for t in times] or [now]
    start = min(stamped) - _SHIFTS_MARGIN
    end = max(stamped) + SHIFT_GRACE + _SHIFTS_MARGIN
    stamp = connection.ops.adapt_datetimefield_value
    rows = rawsql.instances(
        f"SELECT {{columns}} FROM {rawsql.table(Station)} st "
        f"LEFT JOIN {rawsql.table(Shift)} s ON s.station_id = st.id AND {_SHIFT_OPEN} "
        f"LEFT JOIN {rawsql.table(Round)} r ON r.id = s.round_id "
        f"LEFT JOIN {rawsql.table(Node)} n ON n.id = r.node_id "
        "WHERE st.id = %s ORDER BY s.opened_at DESC",
        [stamp(end), stamp(start), pk],
        (Station, "st"),
        (Shift, "s"),
        (Round, "r"),
        (Node, "n"),
    )
    if not rows:
        return None
    station = rows[0][0]
    station._shifts_read = (start, end, _shifts_of([row[1:] for row in rows]))
    return station


def _tubes_locked(barcodes: set[str]) -> list[Tube]:
    """The tubes of these barcodes, locked in id order (so concurrent batches never deadlock
    on them) until the transaction ends: the one statement that reads a tube's fill."""
    if not barcodes:
        return []
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    among, params = rawsql.any_of("t.barcode", sorted(barcodes))
    return [
        tube
        for (tube,) in rawsql.instances(
            f"SELECT {{columns}} FROM {rawsql.table(Tube)} t WHERE {among} ORDER BY t.id{lock}",
            params,
            (Tube, "t"),
        )
    ]


def _tubes_insert(tubes: list[Tube]) -> None:
    """INSERT new tubes (every concrete column but the id) and set their ids."""
    fields = [f.attname for f in Tube._meta.concrete_fields if not f.primary_key]
    rows = [tuple(getattr(t, name) for name in fields) for t in tubes]
    for tube, pk in zip(tubes, insert_rows_returning(Tube, fields, rows), strict=True):
        tube.pk = pk
        tube._state.adding = False


def _tube_fill(state: "_TubeState") -> bool:
    """Move a tube's fill (and status) from what this batch read to what it wrote, with the
    kind an empty tube was fitted to by its first person; False when it moved under the batch."""
    tube = state.tube
    fitted = pooled(tube)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {rawsql.table(Tube)} SET filled = %s, status = %s, closed_at = %s, kind = %s, "
            "capacity = %s, household_id = %s WHERE id = %s AND filled = %s AND status = %s",
            [
                state.filled,
                state.status,
                connection.ops.adapt_datetimefield_value(state.closed_at),
                fitted["kind"],
                fitted["capacity"],
                fitted["household_id"],
                tube.pk,
                tube.filled,
                TubeStatus.OPEN,
            ],
        )
        return cursor.rowcount == 1


def _residents(
    numbers: set[str], ids: set[int]
) -> tuple[dict[str, _Person], dict[int, _Person], dict[int, str]]:
    """The residents of these ID numbers and ids, by number and by id, and the control levels
    of the active areas over them ({node id: level}), in one statement."""
    by_number: dict[str, _Person] = {}
    by_id: dict[int, _Person] = {}
    levels: dict[int, str] = {}
    wanted = [(column, sorted(values)) for column, values in (("id_number", numbers), ("id", ids))]
    wanted = [(column, values) for column, values in wanted if values]
    if not wanted:
        return by_number, by_id, levels
    matches = [rawsql.any_of(f"r.{column}", values) for column, values in wanted]
    found = rawsql.rows(
        "SELECT r.id, r.id_number, r.doc_number, r.name, "
        f"{', '.join('r.' + c for c in _ANCESTORS)}, ca.node_id, ca.level "
        f"FROM {rawsql.table(Resident)} r {active_area_join('r')} "
        f"WHERE {' OR '.join(sql for sql, _params in matches)}",
        [param for _sql, params in matches for param in params],
    )
    for pk, number, doc_number, name, *located, area_node, area_level in found:
        if area_node is not None:
            levels[area_node] = area_level
        # People known by another document (or none) are kept apart by that number.
        number = number or doc_number
        person = _Person(pk, number, name, tuple(located))
        by_number[number] = person
        by_id[pk] = person
    return by_number, by_id, levels


def _refused(item: ScanInput, reason: str, field_name: str, message: str, **extra) -> ScanOutcome:
    return ScanOutcome(
        client_id=item.client_id,
        status="refused",
        reason=reason,
        field=field_name,
        message=message,
        **extra,
    )


def _shift_at(shifts: list[Shift], at: dt.datetime) -> Shift | None:
    """The station's shift at `at`: the one whose hours hold it, else one opened a little
    after it (a device clock running behind). After a shift's close nothing counts."""
    for grace in (dt.timedelta(0), SHIFT_GRACE):
        for shift in shifts:
            if shift.opened_at - grace <= at and (shift.closed_at is None or at <= shift.closed_at):
                return shift
    return None


def shift_at(station: Station, at: dt.datetime) -> Shift | None:
    """The station's shift at `at` (see `_shift_at`), with its round and the round's area."""
    return _shift_at(_shifts_around(station, at, at + SHIFT_GRACE), at)


def _replayed(item: ScanInput, scan: Scan, station: Station) -> ScanOutcome:
    if scan.station_id != station.pk:
        return _refused(
            item,
            "client_id_reused",
            "client_id",
            _("This scan id was already used at another station."),
        )
    person = scan.resident or scan.walk_in
    return ScanOutcome(
        client_id=item.client_id,
        status="replayed",
        tube=scan.tube.barcode,
        filled=scan.tube.filled,
        capacity=scan.tube.capacity,
        tube_closed=scan.tube.status == TubeStatus.CLOSED,
        kind=scan.kind,
        resident_id=scan.resident_id,
        name=getattr(person, "name", ""),
        id_number=mask_id_number(getattr(person, "id_number", "")),
        retest=scan.retest,
        scan_id=scan.pk,
        at=scan.at,
        manual=scan.manual,
    )


def scans_record(
    *, actor, station: Station, items: Sequence[ScanInput], source: str = "api"
) -> list[ScanOutcome]:
    """Record a batch of scans at one station, in the order given; one outcome per item.
    A scan whose client id is already stored is answered as before (replayed) and not
    written again; a refused scan changes nothing and does not stop the others. The caller
    has checked that `actor` may change `station`."""
    if len(items) > MAX_BATCH:
        raise DomainError(_("At most %(n)s scans per batch.") % {"n": MAX_BATCH}, field="scans")
    if not items:
        return []
    if any(is_family_code(i.code) for i in items):
        from bastion.testing.family import scans_with_families

        return scans_with_families(actor=actor, station=station, items=items, source=source)
    for attempt in range(ATTEMPTS):
        # A single scan tries hopefully first (two lookups fewer, see _scans_apply); in a
        # batch those lookups cost little per scan and one double scan would redo them all.
        careful = attempt > 0 or len(items) > 1
        try:
            with _writer_turn(), transaction.atomic():
                return _scans_apply(actor, station, items, timezone.now(), careful=careful)
        except (IntegrityError, OperationalError, _LostRace):
            # A concurrent writer got a resident, a client id or a tube first (or PostgreSQL
            # broke a deadlock), or the first, hopeful evaluation met a replay or someone
            # already sampled: nothing of this batch was written; evaluate it again, with
            # every check.
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


_SQLITE_WRITERS = threading.Lock()


@contextlib.contextmanager
def _writer_turn():
    """On SQLite one writer runs at a time whatever we do; the threads of one server process
    queue here instead of in SQLite's busy handler, which sleeps in steps of up to 100 ms and
    let 8 concurrent stations reach 20 scans per second. PostgreSQL writers run side by side."""
    if connection.vendor != "sqlite":
        yield
        return
    with _SQLITE_WRITERS:
        yield


def scan_record(*, actor, station: Station, item: ScanInput, source: str = "api") -> ScanOutcome:
    """One scan; a refusal raises ScanRefused (a DomainError naming the field)."""
    outcome = scans_record(actor=actor, station=station, items=[item], source=source)[0]
    if outcome.status == "refused":
        raise ScanRefused(outcome)
    return outcome


def _scans_apply(
    actor, station: Station, items: Sequence[ScanInput], now: dt.datetime, careful: bool = True
) -> list[ScanOutcome]:
    """Decide and write a batch. Not `careful` (a single scan's first try) it skips the two
    lookups that almost never find anything, replays and people already sampled, and leaves
    them to the database's unique indexes: a hit there rolls the batch back and it is evaluated
    again, carefully, to give the answer (the stored scan, or the tube they are in)."""
    outcomes: list[ScanOutcome | None] = [None] * len(items)
    actor_id = actor.pk if _user(actor) else None

    # 1. Replays: scans already stored under these client ids.
    ids = {i.client_id for i in items}
    stored: dict[uuid.UUID, Scan] = {}
    if careful and Scan.objects.filter(client_id__in=ids).exists():  # load what it made
        stored = {
            s.client_id: s
            for s in Scan.objects.filter(client_id__in=ids).select_related(
                "tube", "resident", "walk_in"
            )
        }
    pending: list[tuple[int, ScanInput, dt.datetime]] = []
    first_of: dict[uuid.UUID, int] = {}
    for index, item in enumerate(items):
        if item.client_id in stored:
            outcomes[index] = _replayed(item, stored[item.client_id], station)
        elif item.client_id in first_of:
            continue  # answered as its first copy, below
        else:
            first_of[item.client_id] = index
            pending.append((index, item, item.at or now))

    # 2. The station's shifts around these times, with their rounds.
    parsed: list[tuple[int, ScanInput, dt.datetime, Shift, str, str | None, int | None]] = []
    documents: list[tuple] = []
    shifts: list[Shift] = []
    if pending:
        times = [at for _i, _item, at in pending]
        shifts = _shifts_around(station, min(times), max(times) + SHIFT_GRACE)
    for index, item, at in pending:
        if at > now + CLOCK_SKEW:
            outcomes[index] = _refused(
                item, "bad_time", "at", _("The scan's time is in the future: check the clock.")
            )
            continue
        shift = _shift_at(shifts, at)
        if shift is None:
            outcomes[index] = _refused(
                item, "station_closed", "station", _("This station is not open.")
            )
            continue
        if not shift.round.is_open(at):
            outcomes[index] = _refused(
                item,
                "round_not_open",
                "round",
                _("The round %(round)s is not running.") % {"round": shift.round.name},
            )
            continue
        try:
            barcode = normalise_barcode(item.tube)
        except DomainError as e:
            outcomes[index] = _refused(item, "bad_tube", "tube", str(e))
            continue
        scanned = read_scanned(item.code)
        if scanned.bad_code or scanned.household_id:
            outcomes[index] = _refused(
                item, "unknown_code", "code", _("This resident code is not one of ours.")
            )
            continue
        if scanned.document is not None:
            documents.append((index, item, at, shift, barcode, scanned.document))
            continue
        if scanned.id_number is not None:
            try:
                number = parse_id_number(scanned.id_number).number
            except ValidationError as e:
                outcomes[index] = _refused(item, "bad_id_number", "code", e.messages[0])
                continue
            parsed.append((index, item, at, shift, barcode, number, None))
        else:
            parsed.append((index, item, at, shift, barcode, None, scanned.resident_id))

    if documents:
        _documents_parse(documents, parsed, outcomes)
    if parsed:
        _evaluate(actor_id, station, parsed, outcomes, now, careful)

    # A copy of this batch may have committed while this one was being evaluated (on
    # PostgreSQL each statement sees the latest commits): a refused scan whose client id is
    # stored by now was not refused, it was already taken.
    refused = {o.client_id: i for i, o in enumerate(outcomes) if o and o.status == "refused"}
    if refused and len(stored) < len(ids):
        for scan in Scan.objects.filter(client_id__in=list(refused)).select_related(
            "tube", "resident", "walk_in"
        ):
            index = refused[scan.client_id]
            outcomes[index] = _replayed(items[index], scan, station)

    # Copies of a client id inside the batch answer as the first one did.
    for index, item in enumerate(items):
        if outcomes[index] is None:
            first = outcomes[first_of[item.client_id]]
            status = "replayed" if first.status == "accepted" else first.status
            outcomes[index] = replace(first, status=status)
    return outcomes  # type: ignore[return-value]


def _documents_parse(documents: list, parsed: list, outcomes: list) -> None:
    """Scans of passports, permits and residence cards: their holders found in one query,
    then evaluated in their place in the batch like a resident code; a number nobody here
    holds is taken as a walk-in when asked (kept apart by that number)."""
    holders = documents_resolve({d[5] for d in documents})
    for index, item, at, shift, barcode, number in documents:
        if number not in holders and item.walk_in:  # a visitor known by a passport or permit
            parsed.append((index, item, at, shift, barcode, number, None))
        elif holders.get(number) is None:
            message = (
                _("Two residents hold this document number: find the person by name.")
                if number in holders
                else _("No resident has this document number.")
            )
            outcomes[index] = _refused(item, "unknown_document", "code", message)
        else:
            parsed.append((index, item, at, shift, barcode, None, holders[number]))
    parsed.sort(key=lambda p: p[0])


def _evaluate(
    actor_id, station: Station, parsed: list, outcomes: list, now: dt.datetime, careful: bool
) -> None:
    """Decide each parsed scan in order, then write the accepted ones."""
    by_number, by_id, levels = _residents(
        {p[5] for p in parsed if p[5]}, {p[6] for p in parsed if p[6]}
    )
    pooling = TubePooling(by_id.values(), levels)
    round_ids = {p[3].round_id for p in parsed}

    # Tubes, locked in id order so concurrent batches never deadlock on them.
    barcodes = {p[4] for p in parsed}
    tubes: dict[str, _TubeState] = {
        t.barcode: _TubeState(t, False, t.filled, t.status, t.closed_at)
        for t in _tubes_locked(barcodes)
    }

    # Who of them is already sampled in these rounds, and in which tube.
    resident_ids = {p.id for p in by_id.values()}
    sampled: dict[tuple[int, int], str] = {}
    retested: dict[tuple[int, int], str] = {}
    if resident_ids and careful:
        # Each lookup matches one of the partial unique indexes (round, resident).
        for round_id, resident_id, barcode in Scan.objects.filter(
            round_id__in=round_ids,
            resident_id__in=resident_ids,
            voided_at__isnull=True,
            retest=False,
        ).values_list("round_id", "resident_id", "tube__barcode"):
            sampled[(round_id, resident_id)] = barcode
    to_retest: set[tuple[int, int]] = set()
    if resident_ids and (
        sampled
        or any(p[1].single for p in parsed)
        or any(s.tube.kind == TubeKind.SINGLE for s in tubes.values())
        or any(p[3].round.pool_size == 1 for p in parsed)
    ):
        to_retest = set(
            Retest.objects.filter(round_id__in=round_ids, resident_id__in=resident_ids).values_list(
                "round_id", "resident_id"
            )
        )
    if to_retest:
        for round_id, resident_id, barcode in Scan.objects.filter(
            round_id__in=round_ids,
            resident_id__in=[r for _round, r in to_retest],
            voided_at__isnull=True,
            retest=True,
        ).values_list("round_id", "resident_id", "tube__barcode"):
            retested[(round_id, resident_id)] = barcode

    walk_in_numbers = {
        (p[3].round_id, p[5] or by_id[p[6]].id_number)
        for p in parsed
        if (p[5] and p[5] not in by_number) or _outside(p, by_number, by_id)
    }
    walk_ins: dict[tuple[int, str], WalkIn] = {}
    walk_in_sampled: dict[tuple[int, str], str] = {}
    if walk_in_numbers:
        for w in WalkIn.objects.filter(
            round_id__in=round_ids, id_number__in={n for _r, n in walk_in_numbers}
        ):
            walk_ins[(w.round_id, w.id_number)] = w
        for round_id, number, barcode in Scan.objects.filter(
            round_id__in=round_ids,
            walk_in__in=list(walk_ins.values()),
            voided_at__isnull=True,
            retest=False,
        ).values_list("round_id", "walk_in__id_number", "tube__barcode"):
            walk_in_sampled[(round_id, number)] = barcode

    new_walk_ins: list[WalkIn] = []
    accepted: list[_Accepted] = []
    station_located = tuple(getattr(station, c) for c in _ANCESTORS)
    for index, item, at, shift, barcode, number, code_id in parsed:
        round_ = shift.round
        person = by_number.get(number) if number else by_id.get(code_id)
        if number is None and person is None:
            outcomes[index] = _refused(
                item, "unknown_code", "code", _("No resident has this code.")
            )
            continue
        state = tubes.get(barcode)
        if state is None:
            tube = _new_tube(
                round=round_,
                station=station,
                barcode=barcode,
                single=item.single,
                at=at,
                actor=None,
            )
            tube.opened_by_id = actor_id
            state = tubes[barcode] = _TubeState(tube, True, 0, TubeStatus.OPEN)
        check = _tube_refusal(_tube_as_seen(state), round_.pk, station)
        if check:
            outcomes[index] = _refused(
                item,
                check[0],
                "tube",
                check[1],
                tube=barcode,
                filled=state.filled,
                capacity=state.tube.capacity,
                tube_closed=True,
            )
            continue
        if wrong := pooling.refusal(round_, person, state.tube, state.filled):
            outcomes[index] = _refused(item, wrong[0], "tube", wrong[1], tube=barcode)
            continue
        retest = False
        if person is not None and _in_area_values(person, round_.node):
            key = (round_.pk, person.id)
            if state.tube.kind == TubeKind.SINGLE and key in to_retest:
                if key in retested:
                    outcomes[index] = _refused(
                        item,
                        "already_sampled",
                        "code",
                        _("%(name)s was already retested in tube %(tube)s.")
                        % {"name": person.name, "tube": retested[key]},
                        tube=retested[key],
                        resident_id=person.id,
                        name=person.name,
                    )
                    continue
                retest = True
                retested[key] = barcode
            elif key in sampled:
                message = _("%(name)s was already sampled in this round, in tube %(tube)s.")
                if key in to_retest:
                    message = _("%(name)s is on the retest list: use a single tube.")
                outcomes[index] = _refused(
                    item,
                    "already_sampled",
                    "code",
                    message % {"name": person.name, "tube": sampled[key]},
                    tube=sampled[key],
                    resident_id=person.id,
                    name=person.name,
                    id_number=mask_id_number(person.id_number),
                )
                continue
            else:
                sampled[key] = barcode
            entry = _Accepted(
                index,
                item.client_id,
                round_.pk,
                state,
                ScanKind.RESIDENT,
                person.id,
                None,
                retest,
                at,
                person.located,
                person.name,
                person.id_number,
            )
        else:
            id_number = number or person.id_number
            key_w = (round_.pk, id_number)
            if person is None and not item.walk_in:
                outcomes[index] = _refused(
                    item,
                    "unknown_person",
                    "code",
                    _(
                        "No resident of this area has this ID number. Take them as a walk-in "
                        "if they are not from here."
                    ),
                )
                continue
            if key_w in walk_in_sampled:
                outcomes[index] = _refused(
                    item,
                    "already_sampled",
                    "code",
                    _("This person was already sampled in this round, in tube %(tube)s.")
                    % {"tube": walk_in_sampled[key_w]},
                    tube=walk_in_sampled[key_w],
                )
                continue
            walk_in = walk_ins.get(key_w)
            if walk_in is None and not id_number:
                outcomes[index] = _refused(
                    item,
                    "no_document",
                    "code",
                    _("%(name)s has no document and lives outside this round's area.")
                    % {"name": person.name},
                )
                continue
            if walk_in is None:
                try:
                    phone = normalise_mobile(item.phone) if item.phone.strip() else ""
                except ValidationError as e:
                    outcomes[index] = _refused(item, "bad_phone", "phone", e.messages[0])
                    continue
                walk_in = WalkIn(
                    round=round_,
                    id_number=id_number,
                    name=(item.name.strip() or getattr(person, "name", ""))[:50],
                    phone=phone,
                    resident_id=person.id if person else None,
                )
                _locate_at(walk_in, station)
                walk_ins[key_w] = walk_in
                new_walk_ins.append(walk_in)
            walk_in_sampled[key_w] = barcode
            entry = _Accepted(
                index,
                item.client_id,
                round_.pk,
                state,
                ScanKind.WALK_IN,
                person.id if person else None,
                walk_in,
                False,
                at,
                station_located,
                walk_in.name,
                id_number,
            )
        entry.manual = item.manual
        state.filled += 1
        if state.filled >= state.tube.capacity:
            state.status, state.closed_at = TubeStatus.CLOSED, now
        entry.filled, entry.closed = state.filled, state.status == TubeStatus.CLOSED
        accepted.append(entry)

    if not accepted:
        return
    # Write: new tubes (with their final fill), new walk-ins, the scans in one multi-row
    # INSERT, then the fills of the tubes that were there before.
    new_tubes = [s for s in tubes.values() if s.new and s.filled]
    for s in new_tubes:
        s.tube.filled, s.tube.status, s.tube.closed_at = s.filled, s.status, s.closed_at
    if new_tubes:
        _tubes_insert([s.tube for s in new_tubes])
    if new_walk_ins:
        WalkIn.objects.bulk_create(new_walk_ins)
    # In resident order: concurrent batches then wait on each other's rows in one order,
    # never in a cycle.
    ordered = sorted(accepted, key=lambda a: (a.resident_id or 0, str(a.client_id)))
    ids = insert_rows_returning(
        Scan,
        SCAN_COLUMNS,
        [
            (
                a.client_id,
                a.round_id,
                a.state.tube.pk,
                station.pk,
                a.kind,
                a.resident_id,
                a.walk_in.pk if a.walk_in else None,
                a.retest,
                a.at,
                now,
                actor_id,
                "",
                None,
                a.manual,
                *a.located,
            )
            for a in ordered
        ],
    )
    for a, scan_id in zip(ordered, ids, strict=True):
        a.scan_id = scan_id
    for state in tubes.values():
        if state.new or state.filled == state.tube.filled:
            continue
        if not _tube_fill(state):
            raise _LostRace
    for a in accepted:
        if a.retest:
            Retest.objects.filter(
                round_id=a.round_id, resident_id=a.resident_id, tube__isnull=True
            ).update(tube_id=a.state.tube.pk, sampled_at=now)
    for a in accepted:
        outcomes[a.index] = ScanOutcome(
            client_id=a.client_id,
            status="accepted",
            tube=a.state.tube.barcode,
            filled=a.filled,
            capacity=a.state.tube.capacity,
            tube_closed=a.closed,
            kind=a.kind,
            resident_id=a.resident_id if a.kind == ScanKind.RESIDENT else None,
            name=a.name,
            id_number=mask_id_number(a.number),
            retest=a.retest,
            scan_id=a.scan_id,
            at=a.at,
            manual=a.manual,
        )


@dataclass(frozen=True)
class _SeenTube:
    """What `_tube_refusal` reads of a tube, as a batch sees it part-way through."""

    barcode: str
    round_id: int
    station_id: int
    status: str
    filled: int
    capacity: int


def _tube_as_seen(state: _TubeState) -> "Tube | _SeenTube":
    """The tube as the batch sees it so far (its fill and status after earlier items)."""
    tube = state.tube
    if tube.filled == state.filled and tube.status == state.status:
        return tube
    return _SeenTube(
        tube.barcode, tube.round_id, tube.station_id, state.status, state.filled, tube.capacity
    )


def _in_area_values(person: _Person, area: Node) -> bool:
    return person.located[LEVEL_ORDER.index(area.level)] == area.pk


def _outside(p, by_number: dict, by_id: dict) -> bool:
    """Whether a parsed scan names a known resident who lives outside the round's area."""
    person = by_number.get(p[5]) if p[5] else by_id.get(p[6])
    return person is not None and not _in_area_values(person, p[3].round.node)


# --------------------------------------------------------------------------------- results

RESULT_WORDS = {
    "negative": Result.NEGATIVE,
    "neg": Result.NEGATIVE,
    "阴性": Result.NEGATIVE,
    "-": Result.NEGATIVE,
    "positive": Result.POSITIVE,
    "pos": Result.POSITIVE,
    "阳性": Result.POSITIVE,
    "+": Result.POSITIVE,
    "invalid": Result.INVALID,
    "无效": Result.INVALID,
    "inv": Result.INVALID,
}
TUBE_HEADERS = {
    "tube",
    "barcode",
    "tubebarcode",
    "管号",
    "试管编号",
    "试管条码",
    "试管号",
    "条码",
    "样本编号",
    "采样管编号",
}
RESULT_HEADERS = {"result", "status", "结果", "检测结果"}


@dataclass(frozen=True)
class ResultRow:
    row: int | None  # the row number in the file (None for API input)
    tube: str
    result: str


def _header(text: str) -> str:
    return re.sub(r"[\s_\-（）()]", "", text).lower()


def result_rows_read(*, filename: str, content: bytes) -> list[ResultRow]:
    """The rows of a lab's result file (.xlsx or .csv): a tube column and a result column,
    with English or Chinese headers."""
    sheet = sheet_read(filename=filename, content=content)
    header, body = sheet.header, sheet.rows

    def columns(cells: list) -> tuple[int | None, int | None]:
        names = [_header(cell_text(c)) for c in cells]
        return (
            next((i for i, h in enumerate(names) if h in TUBE_HEADERS), None),
            next((i for i, h in enumerate(names) if h in RESULT_HEADERS), None),
        )

    tube_col, result_col = columns(header)
    if tube_col is None or result_col is None:
        # The ledger reader guessed another row (a title above the header): look further.
        for position, (_number, cells) in enumerate(body[:20]):
            found = columns(cells)
            if None not in found:
                tube_col, result_col = found
                body = body[position + 1 :]
                break
    sheet_rows = body
    problems = []
    if tube_col is None:
        problems.append(
            Problem("file", _("No tube column: name it “tube” or “管号”."), sheet.header_row)
        )
    if result_col is None:
        problems.append(
            Problem("file", _("No result column: name it “result” or “结果”."), sheet.header_row)
        )
    if problems:
        raise DomainError(problems)

    def cell(cells: list, i: int) -> str:
        return cell_text(cells[i]) if i < len(cells) else ""

    return [
        ResultRow(number, cell(cells, tube_col), cell(cells, result_col))
        for number, cells in sheet_rows
    ]


def _chunks(items: list, size: int = LOOKUP_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def results_import(
    *,
    actor,
    round: Round,
    rows: Sequence[ResultRow],
    filename: str = "",
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> ResultImport:
    """Apply a lab's per-tube results to a round, all or nothing: any bad row (unknown tube,
    bad result, a tube given two results) is named and nothing changes. A tube that already
    has the same result is left as it is, so a file sent twice changes nothing the second time.
    A positive pooled tube marks its residents for a single-tube retest; an invalid tube puts
    its people back to not sampled."""
    if (
        client_id is not None
        and (found := ResultImport.objects.filter(client_id=client_id).first()) is not None
    ):
        return found
    with transaction.atomic():
        return _results_apply(actor, round, rows, filename, client_id, source)


def _row_label(row: ResultRow, index: int) -> int:
    return row.row if row.row is not None else index + 1


def _results_apply(
    actor, round_: Round, rows: Sequence[ResultRow], filename: str, client_id, source: str
) -> ResultImport:
    problems: list[Problem] = []
    wanted: dict[str, tuple[str, int]] = {}
    if not rows:
        raise DomainError(_("No results given."), field="results")
    for index, row in enumerate(rows):
        number = _row_label(row, index)
        try:
            barcode = normalise_barcode(row.tube)
        except DomainError as e:
            problems.append(Problem("tube", str(e), number))
            continue
        result = RESULT_WORDS.get(row.result.strip().lower())
        if result is None:
            problems.append(
                Problem(
                    "result",
                    _("“%(value)s” is not a result: use negative, positive or invalid.")
                    % {"value": row.result},
                    number,
                )
            )
            continue
        if barcode in wanted and wanted[barcode][0] != result:
            problems.append(
                Problem(
                    "result", _("Tube %(tube)s is given two results.") % {"tube": barcode}, number
                )
            )
            continue
        wanted.setdefault(barcode, (result, number))
    tubes: dict[str, Tube] = {}
    for chunk in _chunks(list(wanted)):
        for t in Tube.objects.select_for_update().filter(round=round_, barcode__in=chunk):
            tubes[t.barcode] = t
    changes: dict[str, list[Tube]] = {r: [] for r in Result.values}
    for barcode, (result, number) in wanted.items():
        tube = tubes.get(barcode)
        if tube is None:
            problems.append(
                Problem("tube", _("No tube %(tube)s in this round.") % {"tube": barcode}, number)
            )
        elif tube.result and tube.result != result:
            problems.append(
                Problem(
                    "result",
                    _("Tube %(tube)s already has the result %(r)s.")
                    % {"tube": barcode, "r": tube.get_result_display()},
                    number,
                )
            )
        elif not tube.result:
            if tube.filled == 0:
                problems.append(
                    Problem("tube", _("Tube %(tube)s holds nobody.") % {"tube": barcode}, number)
                )
            else:
                changes[result].append(tube)
    if problems:
        raise DomainError(sorted(problems, key=lambda p: p.row or 0))

    now = timezone.now()
    batch = ResultImport(
        round=round_,
        filename=filename[:200],
        by=actor if _user(actor) else None,
        source=source,
        client_id=client_id,
        tubes=sum(len(v) for v in changes.values()),
        positive=len(changes[Result.POSITIVE]),
        invalid=len(changes[Result.INVALID]),
    )
    batch.locate(round_.node)
    batch.save()
    for result, changed in changes.items():
        for chunk in _chunks([t.pk for t in changed]):
            Tube.objects.filter(pk__in=chunk).update(
                result=result,
                resulted_at=now,
                result_import=batch,
                status=TubeStatus.CLOSED,
                closed_at=Coalesce("closed_at", now),
            )
            scans = Scan.objects.filter(tube_id__in=chunk, voided_at__isnull=True)
            if result == Result.INVALID:
                scans.update(result=result, voided_at=now)
                # Retests sampled into an invalid tube are due again.
                Retest.objects.filter(tube_id__in=chunk).update(tube=None, sampled_at=None)
            else:
                scans.update(result=result)
        for t in changed:
            t.result = result
    _retests_mark(round_, [t for t in changes[Result.POSITIVE] if t.kind != TubeKind.SINGLE])
    response.results_applied(round_=round_, changes=changes, at=now)  # notify, hold, close
    # The import is recorded once (each tube points at it); the results that set something
    # in motion, positive and invalid, are recorded on their tubes too.
    history.record(
        actor,
        batch,
        "create",
        {
            "tubes": [None, batch.tubes],
            "positive": [None, batch.positive],
            "invalid": [None, batch.invalid],
            "file": [None, batch.filename],
        },
        source=source,
    )
    history.record_many(
        actor,
        changes[Result.POSITIVE] + changes[Result.INVALID],
        "update",
        ["result"],
        source=source,
    )
    return batch


def _retests_mark(round_: Round, tubes: list[Tube]) -> int:
    """Mark the residents of positive pools for a single-tube retest."""
    if not tubes:
        return 0
    # In scan order, so retests are numbered in the order people were sampled (an unordered
    # read follows PostgreSQL's heap, which changes as rows are updated).
    rows = list(
        Scan.objects.filter(tube__in=tubes, kind=ScanKind.RESIDENT, retest=False)
        .order_by("pk")
        .values_list("resident_id", "tube_id", *_ANCESTORS)
    )
    existing = set(
        Retest.objects.filter(round=round_, resident_id__in=[r[0] for r in rows]).values_list(
            "resident_id", flat=True
        )
    )
    retests = []
    for resident_id, tube_id, *located in rows:
        if resident_id in existing:
            continue
        retest = Retest(round=round_, resident_id=resident_id, source_tube_id=tube_id)
        for column, value in zip(_ANCESTORS, located, strict=True):
            setattr(retest, column, value)
        retests.append(retest)
        existing.add(resident_id)
    Retest.objects.bulk_create(retests)
    return len(retests)


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
