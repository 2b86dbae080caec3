"""Every write of rounds, sampling sites, their stations and staff, and stations' shifts. One
function per use case, keyword-only, transactional; a refusal raises `DomainError` naming the
field (and row) and changes nothing."""

import datetime as dt
import uuid
from collections.abc import Iterable

from django.db import (
    IntegrityError,
    transaction,
)
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import DomainError, Problem
from bastion.geo.models import LEVEL_ORDER, CommandZone, Node
from bastion.people.models import Person
from bastion.testing.rounds.models import (
    CUSTODY_HOURS,
    DEFAULT_DEADLINE,
    DEFAULT_TUBE_PATTERN,
    POOL_SIZES,
    Round,
    Shift,
    Site,
    SiteArea,
    SitePost,
    StaffRole,
    Station,
    StationKind,
    tube_code_re,
)
from bastion.testing.scans.models import Tube, TubeStatus

CLOCK_SKEW = dt.timedelta(minutes=5)  # a device's clock may run this far ahead


SHIFT_GRACE = dt.timedelta(minutes=10)  # a scan this long before its shift opened counts


ANCESTORS = tuple(f"{level}_id" for level in LEVEL_ORDER)


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
    "tube_pattern",
)


SITE_FIELDS = ("name", "node_id", "address", "opens_at", "closes_at", "plan")


SITE_POST_FIELDS = ("person_id", "role", "site_id", "station_id", "started_on", "ended_on")


def locate_at(obj, source) -> None:
    for column in ANCESTORS:
        setattr(obj, column, getattr(source, column))


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
    tube_pattern: str = DEFAULT_TUBE_PATTERN,
    client_id: uuid.UUID | None = None,
    home: bool = False,
    source: str = "web",
) -> Round:
    """Decide a testing round over `node`'s subtree, with its deadline (24 hours after the
    start by default), its pooling by control level (`testing.rounds.pooling`) and the hours each
    custody step may take before it is overdue. A home-sampling round (`home`, a sealed
    area's, opened by the outbreak response) may cover one building or unit."""
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
    tube_pattern = tube_pattern.strip() or DEFAULT_TUBE_PATTERN
    if problem := tube_pattern_problem(tube_pattern):
        problems.append(Problem("tube_pattern", problem))
    if sealed_tube not in ("single", "household"):
        problems.append(
            Problem("sealed_tube", _("Sealed areas use a single tube or one per household."))
        )
    deadline = deadline or starts_at + DEFAULT_DEADLINE
    if deadline <= starts_at:
        problems.append(Problem("deadline", _("The deadline comes after the start.")))
    if ends_at <= starts_at:
        problems.append(Problem("ends_at", _("A round must end after it starts.")))
    if node.level in ("building", "unit") and not home:
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
        tube_pattern=tube_pattern,
        created_by=actor if is_user(actor) else None,
        client_id=client_id,
    )
    round_.locate(node)
    round_.save()
    history.record_created(actor, round_, ROUND_FIELDS, source=source)
    return round_


def tube_pattern_problem(pattern: str) -> str | None:
    """Why a round's tube pattern cannot be used, or None."""
    if len(pattern) > 100:
        return _("At most 100 characters.")
    compiled = tube_code_re(pattern)
    if compiled is None or "(?P" in pattern:  # (?P<name>...) is not read by the station page
        return _("This is not a regular expression the station can read.")
    if compiled.fullmatch(""):
        return _("The pattern must not take an empty barcode.")
    return None


def is_user(actor) -> bool:
    """Whether a write is by a signed-in user (not the system: a command, the demo)."""
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
    history.record_update(actor, round, before, ROUND_FIELDS, source=source)
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
def site_open(
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
    stations: Iterable[str] = (),
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> Site:
    """A site with its stations, all or nothing (the page's "add a site")."""
    site = site_create(
        actor=actor,
        node=node,
        name=name,
        address=address,
        opens_at=opens_at,
        closes_at=closes_at,
        plan=plan,
        buildings=buildings,
        zones=zones,
        client_id=client_id,
        source=source,
    )
    have = set(site.stations.values_list("name", flat=True))
    for station_name in stations:
        if station_name.strip() not in have:
            station_add(actor=actor, site=site, name=station_name, source=source)
    return site


@transaction.atomic
def site_update(
    *,
    actor,
    site: Site,
    address: str,
    opens_at: dt.time,
    closes_at: dt.time,
    plan: str,
    source: str = "web",
) -> Site:
    """Write a site's plan (一点一方案): its address, its hours and its notes (route, queue
    lines, waiting area, waste, shifts). Recorded in the history."""
    problems = []
    if not address.strip():
        problems.append(Problem("address", _("Address is required.")))
    if len(address.strip()) > 200:
        problems.append(Problem("address", _("At most 200 characters.")))
    if len(plan) > 5000:
        problems.append(Problem("plan", _("At most 5000 characters.")))
    if problems:
        raise DomainError(problems)
    before = history.snapshot(site, SITE_FIELDS)
    site.address, site.opens_at, site.closes_at = address.strip(), opens_at, closes_at
    site.plan = plan.strip()
    site.save(update_fields=["address", "opens_at", "closes_at", "plan"])
    history.record_update(actor, site, before, SITE_FIELDS, source=source)
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
    locate_at(station, site)
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
    locate_at(post, station or site)
    try:
        with transaction.atomic():
            post.save()
    except IntegrityError:
        raise DomainError(_("This post is already held; end it first."), field="role") from None
    history.record_created(actor, post, SITE_POST_FIELDS, source=source)
    return post


@transaction.atomic
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
        station=station, round=round, opened_at=at, opened_by=actor if is_user(actor) else None
    )
    locate_at(shift, station)
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
