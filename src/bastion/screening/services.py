"""Every write of the screening module: one keyword-only function per use case, transactional,
raising DomainError (naming field and row) before anything is half-written.

Objects passed in (a campaign household, a call row, a callback, a follow-up, a resident) must
already have been fetched through the scope (`core.scope.get_scoped_or_404`, usually via
`screening.queries`); services that take ids themselves (a batch of visits) narrow them with
`restrict(actor, "change")`, and an id outside the scope is answered as a missing one (404).
"""

import datetime as dt
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.bulk import insert_rows, update_rows
from bastion.core.errors import Conflict, DomainError, Problem
from bastion.core.idempotency import (
    created_once,
    item_fingerprint,
    keys_reused,
    keys_store,
    reuse_message,
)
from bastion.core.scope import CHANGE
from bastion.core.sheets.columns import header_key, normalise
from bastion.core.sheets.reading import cell_text, sheet_read
from bastion.geo.identity import normalise_mobile, parse_id_number
from bastion.geo.models import LEVEL_ORDER, Household, Node, Resident
from bastion.ledgers.columns import HEADER_INDEX
from bastion.screening.columns import CALL_COLUMNS, CALL_HEADER_INDEX, DRUG_WORDS
from bastion.screening.models import (
    FEVER_FROM,
    STATUS_RANK,
    Callback,
    CallbackStatus,
    CallList,
    CallRow,
    Campaign,
    CampaignHousehold,
    Channel,
    Finding,
    FollowUp,
    FollowUpSource,
    HealthCode,
    HouseholdStatus,
    ListKind,
    MatchedBy,
    Outcome,
    RowStatus,
    Visit,
)

TRAVEL_DAYS = 14
CLOCK_SKEW = dt.timedelta(minutes=10)  # how far ahead of the server a phone's clock may be
MAX_CANDIDATES = 10
CHUNK = 2000  # ids per IN (...) list


def _chunks(items: Sequence, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_temperature(value, problems: list[Problem], *, row: int | None) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        temperature = Decimal(str(value)).quantize(Decimal("0.1"))
    except InvalidOperation:
        problems.append(Problem("temperature", _("Temperature must be a number."), row))
        return None
    if not Decimal(34) <= temperature <= Decimal(43):
        problems.append(Problem("temperature", _("Temperature must be between 34 and 43 °C."), row))
        return None
    return temperature


def _check_travel(
    place: str, date: dt.date | None, day: dt.date, problems: list[Problem], *, row: int | None
) -> None:
    if bool(place.strip()) != (date is not None):
        problems.append(
            Problem(
                "travel_date" if place.strip() else "travel_place",
                _("Give both the place and the date of travel."),
                row,
            )
        )
    elif date is not None and not day - dt.timedelta(days=TRAVEL_DAYS) <= date <= day:
        problems.append(
            Problem("travel_date", _("Travel date must be within the last 14 days."), row)
        )


# --------------------------------------------------------------------------- campaigns


ANCESTOR_COLUMNS = [f"{level}_id" for level in LEVEL_ORDER]
NOT_YET_FIELDS = ["campaign", "status", "channel", "attempts", "household", *ANCESTOR_COLUMNS]


def _not_yet(campaign_id: int, household: Sequence) -> tuple:
    """A campaign's status row for one household (its id, then its ancestor ids)."""
    return (campaign_id, HouseholdStatus.NOT_YET, "", 0, *household)


@created_once(Campaign)
@transaction.atomic
def campaign_open(
    *,
    actor,
    node: Node,
    name: str,
    starts_on: dt.date,
    ends_on: dt.date,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> Campaign:
    """Open a door-knock campaign over `node`'s subtree: one status row per household, all
    "not yet". Refused when another campaign over an overlapping area overlaps the period."""
    problems = []
    name = name.strip()
    if not name:
        problems.append(Problem("name", _("Name is required.")))
    if node.level == "unit":
        problems.append(Problem("node", _("A campaign covers a building or a larger area.")))
    if ends_on < starts_on:
        problems.append(Problem("ends_on", _("The campaign cannot end before it starts.")))
    if problems:
        raise DomainError(problems)
    overlapping = [
        c
        for c in Campaign.objects.filter(
            starts_on__lte=ends_on, ends_on__gte=starts_on
        ).select_related("node")
        if c.node.path.startswith(node.path) or node.path.startswith(c.node.path)
    ]
    if overlapping:
        raise Conflict(
            _("Campaign %(name)s already covers part of this area in this period.")
            % {"name": overlapping[0].name},
            field="node",
        )
    campaign = Campaign(
        node=node,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=actor,
        client_id=client_id,
    )
    campaign.locate(node)
    campaign.save()
    households = (
        Household.objects.filter(**{f"{node.level}_id": node.pk})
        .order_by("id")
        .values_list("id", *ANCESTOR_COLUMNS)
    )
    # Every household "not yet": one executemany, the household's ancestor ids copied over.
    insert_rows(
        CampaignHousehold,
        NOT_YET_FIELDS,
        (_not_yet(campaign.pk, row) for row in households.iterator(chunk_size=CHUNK)),
    )
    count = campaign.households.count()
    history.record(
        actor,
        campaign,
        "create",
        {
            "name": [None, name],
            "node": [None, node.pk],
            "starts_on": [None, str(starts_on)],
            "ends_on": [None, str(ends_on)],
            "households": [None, count],
        },
        source=source,
    )
    return campaign


def campaigns_include(sender=None, *, households: Sequence[Household], **_kwargs) -> int:
    """Add households made after a campaign opened (a new room, an import) to every campaign
    not yet ended whose area holds them, as "not yet": the chief's list stays complete.
    Connected to `geo.signals.households_created`; returns the rows added."""
    if not households:
        return 0
    running = Campaign.objects.filter(ends_on__gte=timezone.localdate()).select_related("node")
    rows = [
        _not_yet(campaign.pk, (h.pk, *(getattr(h, c) for c in ANCESTOR_COLUMNS)))
        for campaign in running
        for h in households
        if getattr(h, f"{campaign.node.level}_id") == campaign.node_id
    ]
    insert_rows(CampaignHousehold, NOT_YET_FIELDS, rows)
    return len(rows)


@dataclass(frozen=True)
class FindingInput:
    """What was found about one resident of the visited household."""

    resident_id: int
    temperature: Decimal | float | str | None = None
    fever: bool = False
    cough: bool = False
    sore_throat: bool = False
    fatigue: bool = False
    taste_smell_loss: bool = False
    diarrhoea: bool = False
    other_symptoms: str = ""
    travel_place: str = ""
    travel_date: dt.date | None = None
    health_code: str = ""
    needs_medicine: bool = False
    needs_help: bool = False
    needs_note: str = ""


FINDING_FIELDS = [f.name for f in fields(FindingInput) if f.name != "resident_id"]


@dataclass(frozen=True)
class VisitInput:
    client_id: uuid.UUID
    campaign_id: int
    household_id: int
    outcome: str
    channel: str = ""
    at: dt.datetime | None = None  # when it happened on the device; now when not given
    note: str = ""
    findings: Sequence[FindingInput] = field(default_factory=tuple)


@dataclass(frozen=True)
class VisitResult:
    visit: Visit
    created: bool  # False: a retry of a visit already recorded


def _check_visit(
    item: VisitInput, row: int | None, now: dt.datetime, problems: list[Problem]
) -> dt.datetime:
    at = item.at or now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if item.outcome not in Outcome.values:
        problems.append(
            Problem("outcome", _("Outcome must be reached, not reachable or away."), row)
        )
    if item.channel not in ("", *Channel.values):
        problems.append(Problem("channel", _("Channel must be visit, phone or chat."), row))
    elif item.outcome == Outcome.REACHED and not item.channel:
        problems.append(Problem("channel", _("Say how the household was reached."), row))
    if at > now + CLOCK_SKEW:
        problems.append(Problem("at", _("The visit time is in the future."), row))
    if item.findings and item.outcome != Outcome.REACHED:
        problems.append(
            Problem("findings", _("Findings can only be recorded for a household reached."), row)
        )
    if len(item.note) > 200:
        problems.append(Problem("note", _("Note is longer than 200 characters."), row))
    return at


def finding_field(resident_id: int, name: str) -> str:
    """How a problem names a field of one resident's findings: `findings.<resident id>.<field>`."""
    return f"findings.{resident_id}.{name}"


def _finding(
    item: FindingInput, visit: Visit, resident: Resident, row: int | None, problems: list[Problem]
) -> Finding:
    own: list[Problem] = []
    values = {name: getattr(item, name) for name in FINDING_FIELDS}
    values["temperature"] = _check_temperature(item.temperature, own, row=row)
    values["fever"] = bool(item.fever) or (
        values["temperature"] is not None and values["temperature"] >= Decimal(str(FEVER_FROM))
    )
    values["travel_place"] = item.travel_place.strip()
    _check_travel(values["travel_place"], item.travel_date, visit.day, own, row=row)
    if item.health_code not in ("", *HealthCode.values):
        own.append(Problem("health_code", _("Health code must be green, yellow or red."), row))
    for text_field in ("other_symptoms", "needs_note"):
        values[text_field] = values[text_field].strip()
        if len(values[text_field]) > 200:
            own.append(Problem(text_field, _("Text is longer than 200 characters."), row))
    problems += [Problem(finding_field(resident.pk, p.field), p.message, p.row) for p in own]
    finding = Finding(
        visit=visit, campaign_id=visit.campaign_id, resident=resident, day=visit.day, **values
    )
    finding.locate(resident)
    return finding


def household_apply(
    entry: CampaignHousehold, *, outcome: str, channel: str, day: dt.date, at: dt.datetime
) -> None:
    """Fold one attempt into a household's campaign status, whatever order attempts arrive in:
    the first day of each outcome is kept and reached > away > not reachable."""
    entry.attempts += 1
    entry.first_attempt_on = min(d for d in (entry.first_attempt_on, day) if d)
    if entry.last_attempt_at is None or at >= entry.last_attempt_at:
        entry.last_attempt_at, entry.last_attempt_on = at, day
    if outcome == Outcome.REACHED and (entry.reached_on is None or day < entry.reached_on):
        entry.reached_on, entry.channel = day, channel
    if outcome == Outcome.AWAY and (entry.away_on is None or day < entry.away_on):
        entry.away_on = day
    entry.status = max(
        (HouseholdStatus.NOT_REACHABLE, HouseholdStatus(outcome), entry.status),
        key=STATUS_RANK.__getitem__,
    )


APPLIED_FIELDS = [
    "status",
    "channel",
    "attempts",
    "first_attempt_on",
    "reached_on",
    "away_on",
    "last_attempt_on",
    "last_attempt_at",
]


def _follow_ups_open(found: list[tuple[Resident, dt.date, dict]]) -> list[FollowUp]:
    """Open a follow-up for each resident found with fever (resident, day found, source row)
    who has none open yet: one each."""
    if not found:
        return []
    open_already = set(
        FollowUp.objects.filter(
            resident_id__in=[r.pk for r, _d, _s in found], closed_on__isnull=True
        ).values_list("resident_id", flat=True)
    )
    made = []
    for resident, day, source in found:
        if resident.pk in open_already:
            continue
        open_already.add(resident.pk)
        follow_up = FollowUp(resident=resident, opened_on=day, **source)
        follow_up.locate(resident)
        made.append(follow_up)
    FollowUp.objects.bulk_create(made)
    return made


@transaction.atomic
def visits_record(*, actor, visits: Sequence[VisitInput], source: str = "api") -> list[VisitResult]:
    """Record a batch of attempts (one transaction). A visit whose client id is already stored
    is a retry: it is answered with the stored visit and changes nothing. Every problem of
    the batch is reported with its item number (from 1) and nothing is written."""
    now = timezone.now()
    batch = len(visits) > 1
    problems: list[Problem] = []
    times = [
        _check_visit(item, i if batch else None, now, problems)
        for i, item in enumerate(visits, start=1)
    ]
    malformed = {p.row for p in problems}
    # Lock the households' rows first, so that two devices retrying the same visit, or visiting
    # the same household, queue up (PostgreSQL; SQLite's IMMEDIATE transactions already do).
    pairs = {(item.campaign_id, item.household_id) for item in visits}
    entries: dict[tuple[int, int], CampaignHousehold] = {}
    for chunk in _chunks(sorted(pairs)):
        rows = (
            CampaignHousehold.objects.restrict(actor, CHANGE)
            .filter(campaign_id__in={c for c, _h in chunk}, household_id__in={h for _c, h in chunk})
            .select_related("campaign")
            .select_for_update(of=("self",))
        )
        entries |= {
            (e.campaign_id, e.household_id): e
            for e in rows
            if (e.campaign_id, e.household_id) in pairs
        }
    if len(entries) != len(pairs):
        raise Http404  # a household outside the actor's scope, or not in that campaign
    stored = {
        v.client_id: v
        for chunk in _chunks([i.client_id for i in visits])
        for v in Visit.objects.filter(client_id__in=chunk)
    }
    for item in visits:
        visit = stored.get(item.client_id)
        if visit and (visit.campaign_id, visit.household_id) != (
            item.campaign_id,
            item.household_id,
        ):
            raise Conflict(
                _("Client id %(id)s was used for another visit.") % {"id": item.client_id},
                field="client_id",
            )
    # The same client id with another visit (sent before, or earlier in this batch) is a
    # conflict, not a retry (`core.idempotency`).
    fingerprints: dict[uuid.UUID, str] = {}
    for index, item in enumerate(visits, start=1):
        fingerprint = item_fingerprint(item)
        if fingerprints.setdefault(item.client_id, fingerprint) != fingerprint:
            raise Conflict([Problem("client_id", reuse_message(), index if batch else None)])
    if reused := keys_reused(Visit, {c: fingerprints[c] for c in stored}):
        rows = [i for i, item in enumerate(visits, start=1) if item.client_id in reused]
        raise Conflict(
            [Problem("client_id", reuse_message(), row if batch else None) for row in rows]
        )
    residents_wanted = {f.resident_id for item in visits for f in item.findings}
    residents = {
        r.pk: r
        for chunk in _chunks(sorted(residents_wanted))
        for r in Resident.objects.filter(pk__in=chunk)
    }

    results: list[VisitResult] = []
    new_visits: list[Visit] = []
    findings: list[Finding] = []
    seen: dict[uuid.UUID, Visit] = {}
    changed: dict[int, CampaignHousehold] = {}
    for index, (item, at) in enumerate(zip(visits, times, strict=True), start=1):
        row = index if batch else None
        if item.client_id in stored or item.client_id in seen:
            visit = stored.get(item.client_id) or seen[item.client_id]
            results.append(VisitResult(visit, created=False))
            continue
        if row in malformed:
            continue
        entry = entries[(item.campaign_id, item.household_id)]
        day = timezone.localdate(at)
        if not entry.campaign.is_active(day):
            campaign = entry.campaign
            problems.append(
                Problem(
                    "at",
                    _("Campaign %(name)s runs from %(start)s to %(end)s.")
                    % {"name": campaign.name, "start": campaign.starts_on, "end": campaign.ends_on},
                    row,
                )
            )
            continue
        visit = Visit(
            client_id=item.client_id,
            campaign_id=item.campaign_id,
            household_id=item.household_id,
            outcome=item.outcome,
            channel=item.channel,
            day=day,
            at=at,
            by=actor,
            note=item.note.strip(),
        )
        visit.locate(entry)
        seen[item.client_id] = visit
        results.append(VisitResult(visit, created=True))
        new_visits.append(visit)
        found = set()
        for finding_input in item.findings:
            resident = residents.get(finding_input.resident_id)
            field_name = finding_field(finding_input.resident_id, "resident_id")
            if resident is None or resident.household_id != item.household_id:
                problems.append(
                    Problem(
                        field_name, _("This resident does not live in the household visited."), row
                    )
                )
                continue
            if resident.pk in found:
                problems.append(
                    Problem(field_name, _("A resident has two findings in one visit."), row)
                )
                continue
            found.add(resident.pk)
            findings.append(_finding(finding_input, visit, resident, row, problems))
        household_apply(entry, outcome=item.outcome, channel=item.channel, day=day, at=at)
        changed[entry.pk] = entry
    if problems:
        raise DomainError(problems)

    Visit.objects.bulk_create(new_visits)
    keys_store(Visit, {v.client_id: fingerprints[v.client_id] for v in new_visits})
    Finding.objects.bulk_create(findings)  # each finding takes its visit's new id
    update_rows(CampaignHousehold, APPLIED_FIELDS, changed.values())
    _follow_ups_open(
        [
            (f.resident, f.day, {"source": FollowUpSource.VISIT, "finding": f})
            for f in findings
            if f.fever
        ]
    )
    history.record_many(
        actor,
        new_visits,
        "create",
        ["campaign_id", "household_id", "outcome", "channel", "day"],
        source=source,
    )
    return results


def visit_record(
    *,
    actor,
    entry: CampaignHousehold,
    outcome: str,
    client_id: uuid.UUID,
    channel: str = "",
    at: dt.datetime | None = None,
    note: str = "",
    findings: Sequence[FindingInput] = (),
    source: str = "web",
) -> VisitResult:
    """Record one attempt at one household (a batch of one)."""
    item = VisitInput(
        client_id=client_id,
        campaign_id=entry.campaign_id,
        household_id=entry.household_id,
        outcome=outcome,
        channel=channel,
        at=at,
        note=note,
        findings=tuple(findings),
    )
    return visits_record(actor=actor, visits=[item], source=source)[0]


# --------------------------------------------------------------------------- call lists


@dataclass
class CallRowData:
    """One checked row of an imported list."""

    row: int
    name: str
    id_number: str = ""
    phone: str = ""
    address: str = ""
    drug_category: str = ""
    event_at: dt.datetime | None = None
    place: str = ""
    note: str = ""


@dataclass(frozen=True)
class Match:
    status: str
    matched_by: str = ""
    resident: Resident | None = None
    candidates: tuple[int, ...] = ()


TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日 %H时%M分",
    "%Y年%m月%d日",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
    "%Y%m%d",
)


def _parse_time(value) -> dt.datetime:
    """A time cell: a spreadsheet date or datetime, or text in a common Chinese office form."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    else:
        text = normalise(cell_text(value)).replace("T", " ")
        for fmt in TIME_FORMATS:
            try:
                moment = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(text)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _check_call_row(
    number: int, cells: dict[str, object], kind: str, now: dt.datetime
) -> tuple[CallRowData, list[Problem]]:
    problems: list[Problem] = []
    text = {key: normalise(cell_text(value)) for key, value in cells.items()}
    data = CallRowData(row=number, name=text.get("name", ""))
    if not data.name:
        problems.append(Problem("name", _("Name is required."), number))
    elif len(data.name) > 50:
        problems.append(Problem("name", _("Name is longer than 50 characters."), number))
    if text.get("id_number"):
        try:
            data.id_number = parse_id_number(text["id_number"]).number
        except ValidationError as e:
            problems.append(Problem("id_number", e.messages[0], number))
    if text.get("phone"):
        try:
            data.phone = normalise_mobile(text["phone"])
        except ValidationError as e:
            problems.append(Problem("phone", e.messages[0], number))
    data.address = text.get("address", "")
    if not (text.get("id_number") or text.get("phone") or data.address):
        problems.append(
            Problem("id_number", _("Give an ID number, a mobile number or an address."), number)
        )
    drug = text.get("drug_category", "")
    if drug:
        data.drug_category = DRUG_WORDS.get(header_key(drug), "")
        if not data.drug_category:
            problems.append(
                Problem(
                    "drug_category",
                    _("Drug category must be 退烧, 抗病毒 or 抗生素."),
                    number,
                )
            )
    elif kind == ListKind.PHARMACY:
        problems.append(
            Problem("drug_category", _("Drug category is required on a pharmacy list."), number)
        )
    if text.get("event_at"):
        try:
            data.event_at = _parse_time(cells["event_at"])
        except ValueError:
            problems.append(Problem("event_at", _("Time must look like 2022-04-01 10:30."), number))
        else:
            if data.event_at > now + CLOCK_SKEW:
                problems.append(Problem("event_at", _("The time is in the future."), number))
    data.place, data.note = text.get("place", ""), text.get("note", "")
    for key, limit in (("address", 200), ("place", 100), ("note", 200)):
        if len(getattr(data, key)) > limit:
            problems.append(
                Problem(key, _("Text is longer than %(n)d characters.") % {"n": limit}, number)
            )
    return data, problems


def _has_token(text: str, token: str) -> bool:
    """Whether `token` appears in `text` not as part of a longer number ("1号楼" is not in
    "11号楼", "301" is not in "1301")."""
    token = _compact(token)
    start = text.find(token)
    while token and start >= 0:
        before = text[start - 1] if start else ""
        after = text[start + len(token)] if start + len(token) < len(text) else ""
        if not (token[0].isdigit() and before.isdigit()) and not (
            token[-1].isdigit() and after.isdigit()
        ):
            return True
        start = text.find(token, start + 1)
    return False


def _compact(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def _address_fits(address: str, resident: Resident) -> bool:
    text = _compact(address)
    return all(
        _has_token(text, part)
        for part in (resident.building.name, resident.unit.name, resident.household.room)
    )


def match_rows(area: Node, rows: Sequence[CallRowData]) -> list[Match]:
    """Match rows to residents of `area`: by ID number, else mobile, else name plus address
    (building, unit and room). A row that fits more than one resident at the deciding step is
    ambiguous and never matched here. Batched: a few IN (...) queries for the whole list."""
    residents = Resident.objects.filter(**{f"{area.level}_id": area.pk})

    def load(field_name: str, values: set[str]) -> dict[str, list[Resident]]:
        found: dict[str, list[Resident]] = defaultdict(list)
        for chunk in _chunks(sorted(values)):
            qs = residents.filter(**{f"{field_name}__in": chunk}).order_by("id")
            for resident in qs.select_related("building", "unit", "household"):
                found[getattr(resident, field_name)].append(resident)
        return found

    by_id = load("id_number", {r.id_number for r in rows if r.id_number})
    by_phone = load("phone", {r.phone for r in rows if r.phone})
    by_name = load("name", {r.name for r in rows})
    matches = []
    for row in rows:
        if len(by_id.get(row.id_number, [])) == 1:
            matches.append(Match(RowStatus.MATCHED, MatchedBy.ID_NUMBER, by_id[row.id_number][0]))
            continue
        phone_hits = by_phone.get(row.phone, []) if row.phone else []
        if len(phone_hits) == 1:
            matches.append(Match(RowStatus.MATCHED, MatchedBy.PHONE, phone_hits[0]))
            continue
        if len(phone_hits) > 1:
            matches.append(
                Match(
                    RowStatus.AMBIGUOUS, candidates=tuple(r.pk for r in phone_hits[:MAX_CANDIDATES])
                )
            )
            continue
        same_name = by_name.get(row.name, [])
        fits = [r for r in same_name if row.address and _address_fits(row.address, r)]
        if len(fits) == 1:
            matches.append(Match(RowStatus.MATCHED, MatchedBy.NAME_ADDRESS, fits[0]))
        elif len(fits) > 1:
            matches.append(
                Match(RowStatus.AMBIGUOUS, candidates=tuple(r.pk for r in fits[:MAX_CANDIDATES]))
            )
        else:  # same-name residents are offered to the person who resolves the row
            matches.append(
                Match(
                    RowStatus.UNMATCHED, candidates=tuple(r.pk for r in same_name[:MAX_CANDIDATES])
                )
            )
    return matches


def _callback_for(row: CallRow, today: dt.date) -> Callback:
    callback = Callback(call_row=row, resident=row.resident, created_on=today)
    callback.locate(row.resident)
    return callback


def read_call_list(*, kind: str, filename: str, content: bytes) -> list[CallRowData]:
    """Read and check a whole file; every bad row is reported (row and column), none kept."""
    # The header row below a title is found by the resident ledger's headers, as it always has
    # been; finding it by the call list's own (CALL_HEADER_INDEX) would change which files read.
    sheet = sheet_read(filename=filename, content=content, known=HEADER_INDEX)
    keys = [CALL_HEADER_INDEX.get(header_key(h)) for h in sheet.header]
    missing = [c for c in CALL_COLUMNS if c.required and c.key not in keys]
    if missing:
        raise DomainError(
            [
                Problem(c.key, _("Column %(col)s is missing.") % {"col": c.zh}, sheet.header_row)
                for c in missing
            ]
        )
    if len(sheet.rows) > settings.BASTION_IMPORT_MAX_ROWS:
        raise DomainError(
            _("The file has more than %(n)d rows.") % {"n": settings.BASTION_IMPORT_MAX_ROWS},
            field="file",
        )
    now = timezone.now()
    problems: list[Problem] = []
    rows = []
    for number, cells in sheet.rows:
        values = {key: cell for key, cell in zip(keys, cells, strict=False) if key}
        data, row_problems = _check_call_row(number, values, kind, now)
        problems += row_problems
        rows.append(data)
    if problems:
        raise DomainError(problems)
    return rows


@transaction.atomic
def call_list_open(*, actor, node: Node, kind: str, name: str, source: str = "web") -> CallList:
    """An empty call list in `node`'s area, to be filled later (the contacts a case's tracing
    finds): the outbreak response opens one per case."""
    if kind not in ListKind.values:
        raise DomainError(_("Unknown kind of list."), field="kind")
    if node.level in ("building", "unit"):
        raise DomainError(_("A list is imported into a grid or a larger area."), field="node")
    call_list = CallList(
        node=node,
        kind=kind,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        name=(name.strip() or ListKind(kind).label)[:100],
    )
    call_list.locate(node)
    call_list.save()
    history.record(
        actor, call_list, "create", {"kind": [None, kind], "rows": [None, 0]}, source=source
    )
    return call_list


@created_once(CallList)
@transaction.atomic
def call_list_import(
    *,
    actor,
    node: Node,
    kind: str,
    filename: str,
    content: bytes,
    name: str = "",
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> CallList:
    """Import an outside list into `node`'s area, all or nothing: match its rows to residents
    and open a callback on the resident's grid for every matched row."""
    if kind not in ListKind.values:
        raise DomainError(_("Unknown kind of list."), field="kind")
    if node.level in ("building", "unit"):
        raise DomainError(_("A list is imported into a grid or a larger area."), field="node")
    rows = read_call_list(kind=kind, filename=filename, content=content)
    today = timezone.localdate()
    call_list = CallList(
        node=node,
        kind=kind,
        filename=filename[:200],
        created_by=actor,
        client_id=client_id,
        name=(name.strip() or f"{ListKind(kind).label} {today}")[:100],
    )
    call_list.locate(node)
    call_list.save()
    counts = _rows_add(call_list, rows, today)
    history.record(
        actor,
        call_list,
        "create",
        {"kind": [None, kind], **{key: [None, n] for key, n in counts.items()}},
        source=source,
    )
    return call_list


@transaction.atomic
def call_rows_add(
    *, actor, call_list: CallList, filename: str, content: bytes, source: str = "web"
) -> dict[str, int]:
    """More rows for a list already open (the contacts a case's tracing finds, sent in as
    they are found), all or nothing like an import: their row numbers follow the list's."""
    rows = read_call_list(kind=call_list.kind, filename=filename, content=content)
    call_list = CallList.objects.select_for_update().get(pk=call_list.pk)
    first = (call_list.rows.aggregate(last=Max("row"))["last"] or 0) + 1
    for i, data in enumerate(rows):
        data.row = first + i
    counts = _rows_add(call_list, rows, timezone.localdate())
    history.record(
        actor, call_list, "update", {key: [None, n] for key, n in counts.items()}, source=source
    )
    return counts


def _rows_add(call_list: CallList, rows: Sequence[CallRowData], today: dt.date) -> dict[str, int]:
    """Match `rows` to residents in the list's area, store them and open a callback on the
    resident's grid for each matched row: the rows' count and the count of each status."""
    made = []
    for data, match in zip(rows, match_rows(call_list.node, rows), strict=True):
        row = CallRow(
            call_list=call_list,
            status=match.status,
            matched_by=match.matched_by,
            resident=match.resident,
            candidates=list(match.candidates),
            **{f.name: getattr(data, f.name) for f in fields(CallRowData)},
        )
        row.locate(match.resident or call_list.node)
        made.append(row)
    CallRow.objects.bulk_create(made, batch_size=CHUNK)
    Callback.objects.bulk_create(
        [_callback_for(row, today) for row in made if row.status == RowStatus.MATCHED],
        batch_size=CHUNK,
    )
    counts = defaultdict(int)
    for row in made:
        counts[row.status] += 1
    return {"rows": len(made), **counts}


@transaction.atomic
def call_row_resolve(
    *,
    actor,
    row: CallRow,
    resident: Resident | None = None,
    outside: bool = False,
    source: str = "web",
) -> CallRow:
    """A person settles an unmatched or ambiguous row: picks the resident (a callback opens
    on their grid), or marks the row as not in our area. Repeating the same answer is a no-op."""
    if (resident is None) == (not outside):
        raise DomainError(
            _("Pick a resident, or mark the row as not in our area."), field="resident"
        )
    row = CallRow.objects.select_for_update().select_related("call_list__node").get(pk=row.pk)
    if row.status == RowStatus.MATCHED:
        if resident is not None and row.resident_id == resident.pk:
            return row
        raise Conflict(_("This row is already matched to a resident."), field="resident")
    if outside and row.status == RowStatus.OUTSIDE:
        return row
    before = {"status": row.status, "resident": None}
    area = row.call_list.node
    if resident is not None:
        if getattr(resident, f"{area.level}_id") != area.pk:
            raise DomainError(
                _("%(name)s does not live in %(area)s.")
                % {"name": resident.name, "area": area.name},
                field="resident",
            )
        row.status, row.matched_by, row.resident = (RowStatus.MATCHED, MatchedBy.PERSON, resident)
        row.locate(resident)
    else:
        row.status = RowStatus.OUTSIDE
    row.resolved_by, row.resolved_at = actor, timezone.now()
    row.save()
    if resident is not None:
        _callback_for(row, timezone.localdate()).save()
    history.record(
        actor,
        row,
        "update",
        history.diff(before, {"status": row.status, "resident": row.resident_id}),
        source=source,
    )
    return row


@transaction.atomic
def callback_record(
    *,
    actor,
    callback: Callback,
    client_id: uuid.UUID,
    fever_now: bool,
    temperature=None,
    drug_user: str = "",
    drug_used_on: dt.date | None = None,
    illness_history: str = "",
    travel_place: str = "",
    travel_date: dt.date | None = None,
    note: str = "",
    at: dt.datetime | None = None,
    source: str = "web",
) -> Callback:
    """Record the outcome of a callback. Fever now opens a follow-up. A retry with the same
    client id returns the recorded callback."""
    callback = Callback.objects.select_for_update().select_related("resident").get(pk=callback.pk)
    if callback.client_id == client_id:
        return callback
    if callback.status == CallbackStatus.DONE:
        raise Conflict(_("This callback is already recorded."), field="client_id")
    if Callback.objects.filter(client_id=client_id).exists():
        raise Conflict(
            _("Client id %(id)s was used for another callback.") % {"id": client_id},
            field="client_id",
        )
    now = timezone.now()
    at = at or now
    day = timezone.localdate(at)
    problems: list[Problem] = []
    if at > now + CLOCK_SKEW:
        problems.append(Problem("at", _("The time is in the future.")))
    elif day < callback.created_on:
        problems.append(Problem("at", _("The callback was made before the list arrived.")))
    callback.temperature = _check_temperature(temperature, problems, row=None)
    travel_place = travel_place.strip()
    _check_travel(travel_place, travel_date, day, problems, row=None)
    if drug_used_on is not None and drug_used_on > day:
        problems.append(Problem("drug_used_on", _("The drug cannot be used in the future.")))
    for name, value, limit in (
        ("drug_user", drug_user, 50),
        ("illness_history", illness_history, 200),
        ("note", note, 200),
    ):
        if len(value.strip()) > limit:
            problems.append(
                Problem(name, _("Text is longer than %(n)d characters.") % {"n": limit})
            )
    if problems:
        raise DomainError(problems)
    callback.fever_now = bool(fever_now) or (
        callback.temperature is not None and callback.temperature >= Decimal(str(FEVER_FROM))
    )
    callback.status = CallbackStatus.DONE
    callback.done_on, callback.done_at, callback.done_by = day, at, actor
    callback.client_id = client_id
    callback.drug_user, callback.drug_used_on = drug_user.strip(), drug_used_on
    callback.illness_history, callback.note = illness_history.strip(), note.strip()
    callback.travel_place, callback.travel_date = travel_place, travel_date
    callback.save()
    if callback.fever_now:
        _follow_ups_open(
            [(callback.resident, day, {"source": FollowUpSource.CALLBACK, "callback": callback})]
        )
    history.record(
        actor,
        callback,
        "update",
        {
            "status": [CallbackStatus.OPEN, CallbackStatus.DONE],
            "fever_now": [None, callback.fever_now],
        },
        source=source,
    )
    return callback


@transaction.atomic
def follow_up_close(
    *, actor, follow_up: FollowUp, outcome: str, on: dt.date | None = None, source: str = "web"
) -> FollowUp:
    """Close a follow-up with what came of it. Closing it again is refused."""
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    outcome = outcome.strip()
    if follow_up.closed_on is not None:
        raise Conflict(_("This follow-up is already closed."), field="outcome")
    if not outcome:
        raise DomainError(_("Say what came of the follow-up."), field="outcome")
    if len(outcome) > 200:
        raise DomainError(_("Text is longer than %(n)d characters.") % {"n": 200}, field="outcome")
    follow_up.closed_on = max(on or timezone.localdate(), follow_up.opened_on)
    follow_up.closed_by, follow_up.outcome = actor, outcome
    follow_up.save()
    history.record(
        actor,
        follow_up,
        "update",
        {"closed_on": [None, str(follow_up.closed_on)], "outcome": [None, outcome]},
        source=source,
    )
    return follow_up


def problem_column(problem: Problem) -> str:
    """The header a problem of an imported list refers to, for error tables."""
    return next((c.header() for c in CALL_COLUMNS if c.key == problem.field), problem.field or "")
