"""The public site finder: for a community, the sampling sites near it, each with its hours,
whether it is open now (and when it opens), its open stations and a queue estimate in three
bands. No login and no personal data: only what a notice board at the site would show.

Reads, and how few (a whole city asks; DESIGN.md §6):

* `finder_data(community_id)` is cached per community for `CACHE_SECONDS` (Django's cache).
  A miss costs four indexed queries: the community, the sites serving it (through their
  buildings and zones), the candidate sites of its district, and the open stations of the
  sites shown (with the crews' queue counts).
* The scans of the last `WINDOW` per station come from one aggregate over all open rounds
  (the `scan_round_at` index), cached under one key for `CACHE_SECONDS` and shared by every
  community: the scans table is the city's largest, so it is read once per cache period per
  process, never per community, and it carries no extra index for the finder.
  Figures are therefore at most two cache periods (about a minute) old; the page says when
  they were computed.

The queue estimate (`queue_estimate`), per site, over its open stations:

1. A crew's count of the people waiting (`Station.queue_length`, at most `WINDOW` old) is the
   best evidence there is. The wait is that count divided by the rate the site is serving at
   now: the scans of the window per minute. A standing queue keeps the stations busy, so the
   scan rate is the service rate; when the window holds too few scans to measure it (a
   station just opened), the nominal rate `SERVICE_PER_MINUTE` per open station is used.
2. Without a count, the wait is inferred from the scans alone. Scans are the people served;
   while the stations keep up they are also the people arriving, so the arrival rate λ is
   the scan rate, the open stations are c servers of nominal rate μ, and the expected wait
   in an M/M/c queue (Erlang C) is P(wait)/(cμ − λ). Utilisation is capped at `MAX_LOAD`:
   scans cannot show a queue longer than busy stations imply (served people never exceed
   capacity), so an estimate from scans alone says "busy" but never "over 50 minutes"
   without a crew's count. That is deliberate: the page does not invent long queues, and the
   crew's input on the station page is how a long one gets shown. When the stations serve
   at `BUSY_LOAD` of their nominal rate or more, the estimate is flagged `saturated` and the
   page says the queue may be longer than shown.

Site hours: `opens_at`–`closes_at` each day; equal times mean open all day, a closing time
before the opening time means the hours run past midnight. A site is open now when the time
is within its hours and at least one of its stations has an open shift in a round in
progress (a site inside its hours with no open station is "not sampling now").

Near: a community's point is the mean of the coordinates of the sites serving it (sites
stand in the compounds they serve; communities carry no coordinates of their own). Sites
serving the community come first; then others by distance from that point (within
`NEAR_KM`), or, without coordinates, by the tree: same community, same street, same
district. Within each of the two groups, open sites come before closed ones."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass

from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from bastion.geo.models import Node

WINDOW = dt.timedelta(minutes=15)


CACHE_SECONDS = 30


SERVICE_PER_MINUTE = 1.5  # people per station per minute: scan, swab, cap (about 40 s each)


MIN_SCANS_FOR_RATE = 5  # fewer scans than this in the window: the rate is not measured


MAX_LOAD = 0.95  # utilisation cap of the estimate from scans alone


BUSY_LOAD = 0.9  # utilisation from which the stations are called saturated


NEAR_KM = 5.0


OTHERS_SHOWN = 8  # sites shown besides those serving the community


CANDIDATES = 2000  # sites of a district read at most, to pick the nearest from


SHORT, MEDIUM, LONG = "under_25", "25_50", "over_50"


BAND_LIMITS = ((25, SHORT), (50, MEDIUM))


CACHE_PREFIX = "finder:v1"


# ----------------------------------------------------------------------------- pure parts


def band_of(minutes: float) -> str:
    """The band of a wait in minutes: under 25, 25 to 50, over 50."""
    for limit, band in BAND_LIMITS:
        if minutes < limit:
            return band
    return LONG


def erlang_c(servers: int, offered: float) -> float:
    """The probability that an arrival waits in an M/M/c queue with `servers` servers and
    `offered` load (λ/μ, in servers), for offered < servers."""
    if offered <= 0:
        return 0.0
    term, total = 1.0, 1.0  # a^k / k!, summed for k < c
    for k in range(1, servers):
        term *= offered / k
        total += term
    last = term * offered / servers * servers / (servers - offered)  # a^c/c! · c/(c−a)
    return last / (total + last)


@dataclass(frozen=True)
class Estimate:
    minutes: float
    band: str
    basis: str  # "reported": a crew's count; "scans": inferred from the scans
    waiting: int | None  # the crews' count, when that is the basis
    # From scans alone: the stations served at BUSY_LOAD or more of their nominal rate, so
    # people are probably queuing for longer than the scans can show (the page says so).
    saturated: bool = False


def queue_estimate(
    *,
    open_stations: int,
    scans: int,
    window_minutes: float,
    reported: int | None = None,
) -> Estimate | None:
    """The wait at a site with `open_stations` stations that served `scans` people in the
    last `window_minutes`, and the crews' count of people waiting (`reported`) if fresh.
    None when no station is open (nobody is being sampled, there is no queue to estimate)."""
    if open_stations <= 0:
        return None
    window_minutes = max(window_minutes, 1.0)
    capacity = open_stations * SERVICE_PER_MINUTE
    measured = scans / window_minutes
    if reported is not None:
        rate = measured if scans >= MIN_SCANS_FOR_RATE else capacity
        minutes = reported / rate
        return Estimate(round(minutes, 1), band_of(minutes), "reported", reported)
    load = min(measured / SERVICE_PER_MINUTE, MAX_LOAD * open_stations)
    arrivals = load * SERVICE_PER_MINUTE
    minutes = erlang_c(open_stations, load) / (capacity - arrivals) if arrivals else 0.0
    saturated = measured >= BUSY_LOAD * capacity
    return Estimate(round(minutes, 1), band_of(minutes), "scans", None, saturated)


def _within(opens: dt.time, closes: dt.time, at: dt.time) -> bool:
    if opens == closes:
        return True
    if opens < closes:
        return opens <= at < closes
    return at >= opens or at < closes  # past midnight


def hours_state(opens: dt.time, closes: dt.time, now: dt.datetime) -> tuple[bool, dt.datetime]:
    """Whether `now` (aware) is within the daily hours, and the next opening from `now`
    on (today's if it is still to come, else tomorrow's), in local time."""
    local = timezone.localtime(now)
    today = timezone.make_aware(dt.datetime.combine(local.date(), opens))
    next_open = today if today > local else today + dt.timedelta(days=1)
    return _within(opens, closes, local.time()), next_open


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, h)))


@dataclass(frozen=True)
class Place:
    """What ordering needs of a site."""

    id: int
    name: str
    community_id: int | None
    street_id: int | None
    lat: float | None
    lon: float | None


def community_point(serving: list[Place]) -> tuple[float, float] | None:
    points = [(s.lat, s.lon) for s in serving if s.lat is not None and s.lon is not None]
    if not points:
        return None
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def order_sites(
    candidates: list[Place],
    serving_ids: set[int],
    *,
    community_id: int,
    street_id: int | None,
    others: int = OTHERS_SHOWN,
) -> list[tuple[Place, float | None]]:
    """The sites to show for a community, each with its distance in km (None without
    coordinates): every site serving the community, then up to `others` more, nearest
    first (within NEAR_KM when both have coordinates; else same community, same street,
    same district), ties by name."""
    serving = [s for s in candidates if s.id in serving_ids]
    home = community_point(serving)

    def km(s: Place) -> float | None:
        if home is None or s.lat is None or s.lon is None:
            return None
        return round(distance_km(home, (s.lat, s.lon)), 2)

    def tree_rank(s: Place) -> int:
        return 0 if s.community_id == community_id else 1 if s.street_id == street_id else 2

    def key(s: Place) -> tuple:
        d = km(s)
        return (d is None, d if d is not None else tree_rank(s), s.name, s.id)

    rest = [s for s in candidates if s.id not in serving_ids]
    rest = [s for s in rest if (d := km(s)) is None or d <= NEAR_KM]
    chosen = sorted(serving, key=key) + sorted(rest, key=key)[:others]
    return [(s, km(s)) for s in chosen]


# ------------------------------------------------------------------------------- reads


def _key(*parts) -> str:
    return ":".join([CACHE_PREFIX, *map(str, parts)])


def station_scans(now: dt.datetime) -> dict[int, int]:
    """Scans per station in the `WINDOW` up to `now`, over the rounds in progress: one
    aggregate for the whole city, shared by every community (see the module's notes)."""
    from bastion.testing.rounds.models import Round
    from bastion.testing.scans.models import Scan

    rounds = Round.objects.filter(starts_at__lte=now, ends_at__gte=now - WINDOW)
    rows = (
        Scan.objects.filter(
            round_id__in=rounds.values("pk"),
            at__gt=now - WINDOW,
            at__lte=now,
            voided_at__isnull=True,
        )
        .values("station_id")
        .annotate(n=Count("id"))
        .values_list("station_id", "n")
    )
    return dict(rows)


def _cached(key: str, now: dt.datetime, compute):
    """`compute()` kept for CACHE_SECONDS. Each entry holds the moment it was computed
    for, so a caller's `now` past its expiry recomputes even before the cache drops it
    (tests move `now`, the clock never sleeps)."""
    entry = cache.get(key)
    if entry is not None:
        at, value = entry
        if dt.timedelta(0) <= now - at < dt.timedelta(seconds=CACHE_SECONDS):
            return value
    value = compute()
    cache.set(key, (now, value), CACHE_SECONDS)
    return value


_PLACE_COLUMNS = ("pk", "name", "community_id", "street_id", "lat", "lon")


_SHOWN_COLUMNS = ("address", "opens_at", "closes_at", "community__name")


def _candidates(queryset) -> tuple[list[Place], dict[int, dict]]:
    """The candidate sites in one read: their places to order, and by id what a shown one
    displays."""
    rows = {r["pk"]: r for r in queryset.values(*_PLACE_COLUMNS, *_SHOWN_COLUMNS)}
    places = [Place(*(r[c] for c in _PLACE_COLUMNS)) for r in rows.values()]
    return places, rows


def _open_stations(site_ids: list[int], now: dt.datetime) -> dict[int, list[dict]]:
    from bastion.testing.rounds.models import Shift

    rows = Shift.objects.filter(
        closed_at__isnull=True,
        station__site_id__in=site_ids,
        round__starts_at__lte=now,
        round__ends_at__gte=now,
    ).values(
        "station_id",
        "station__site_id",
        "opened_at",
        "station__queue_length",
        "station__queue_reported_at",
    )
    by_site: dict[int, list[dict]] = {}
    for r in rows:
        by_site.setdefault(r["station__site_id"], []).append(r)
    return by_site


def _site_queue(stations: list[dict], scans: dict[int, int], now: dt.datetime) -> Estimate | None:
    if not stations:
        return None
    since = now - WINDOW
    earliest = min(s["opened_at"] for s in stations)
    window = min(WINDOW, max(now - earliest, dt.timedelta(minutes=1)))
    counts = [
        s["station__queue_length"]
        for s in stations
        if s["station__queue_reported_at"] is not None and s["station__queue_reported_at"] > since
    ]
    return queue_estimate(
        open_stations=len(stations),
        scans=sum(scans.get(s["station_id"], 0) for s in stations),
        window_minutes=window.total_seconds() / 60,
        reported=sum(counts) if counts else None,
    )


def _compute(community: Node, now: dt.datetime) -> dict:
    from bastion.testing.rounds.models import Site, SiteArea

    cid = community.pk
    serving_ids = set(
        SiteArea.objects.filter(
            Q(building__community_id=cid) | Q(zone__memberships__building__community_id=cid)
        )
        .values_list("site_id", flat=True)
        .distinct()
    )
    candidates, rows = _candidates(
        Site.objects.filter(Q(pk__in=serving_ids) | Q(district_id=community.district_id)).order_by(
            "street_id", "name", "pk"
        )[:CANDIDATES]
    )
    ordered = order_sites(candidates, serving_ids, community_id=cid, street_id=community.street_id)
    ids = [p.id for p, _km in ordered]
    stations = _open_stations(ids, now)
    scans = _cached(_key("scans"), now, lambda: station_scans(now))
    sites = []
    for place, km in ordered:
        row = rows[place.id]
        own = stations.get(place.id, [])
        within, next_open = hours_state(row["opens_at"], row["closes_at"], now)
        is_open = within and bool(own)
        estimate = _site_queue(own, scans, now) if is_open else None
        sites.append(
            {
                "id": place.id,
                "name": row["name"],
                "address": row["address"],
                "community": row["community__name"] or "",
                "serves_community": place.id in serving_ids,
                "distance_km": km,
                "opens_at": row["opens_at"].strftime("%H:%M"),
                "closes_at": row["closes_at"].strftime("%H:%M"),
                "all_day": row["opens_at"] == row["closes_at"],
                "within_hours": within,
                "open_now": is_open,
                "next_open_at": None if is_open else next_open,
                "open_stations": len(own) if within else 0,
                "queue": asdict(estimate) if estimate else None,
            }
        )
    # Open sites before closed ones, within each group (distance order kept).
    sites.sort(key=lambda s: (not s["serves_community"], not s["open_now"]))
    return {
        "community": {
            "id": cid,
            "name": community.name,
            "street": community.street.name if community.street_id else "",
            "district": community.district.name if community.district_id else "",
        },
        "computed_at": now,
        "window_minutes": int(WINDOW.total_seconds() // 60),
        "sites": sites,
    }


def finder_data(community_id: int, now: dt.datetime | None = None) -> dict | None:
    """The finder's figures for one community (None if there is no such community),
    cached per community for CACHE_SECONDS."""
    now = now or timezone.now()

    def compute():
        community = (
            Node.objects.filter(pk=community_id, level="community")
            .select_related("street", "district")
            .first()
        )
        return _compute(community, now) if community else None

    return _cached(_key("community", community_id), now, compute)


# The places below a community that residents name their home by: grids ("银河小区网格")
# and buildings ("银河小区3号楼"); a compound is the buildings sharing its name.
ESTATE_LEVELS = ("grid", "building")


def communities_matching(query: str, limit: int = 50) -> list[dict]:
    """Communities whose name (or whose street's name) holds `query`, or with a place below
    them that does: an estate or compound is known by its buildings' and zones' names
    ("银河小区" finds the community of "银河小区3号楼"), and such a community carries the first
    name that matched (`estate`). All communities when empty. Names of places only: nothing
    here is personal."""
    rows = Node.objects.filter(level="community")
    below: dict[int, str] = {}
    if query:
        direct = Q(name__icontains=query) | Q(street__name__icontains=query)
        for community_id, name in (
            Node.objects.filter(level__in=ESTATE_LEVELS, name__icontains=query)
            .order_by("community_id", "path")
            .values_list("community_id", "name")
        ):
            below.setdefault(community_id, name)
            if len(below) > limit:
                break
        rows = rows.filter(direct | Q(pk__in=list(below)))
    found = list(
        rows.order_by("street__name", "name", "pk").values("pk", "name", "street__name")[:limit]
    )
    for row in found:
        if query and query not in row["name"] and query not in (row["street__name"] or ""):
            row["estate"] = below.get(row["pk"], "")
    return found
