"""Home measures over JSON (mounted at /api/v1/quarantine/home): who is at home now (masked),
the reports due today, and every write the pages do — place a measure, a twice-daily report,
the end. Creating writes carry a client id (a retry replays; the same id with another body is
409). Thin: reads in `queries`, writes in `services`; the scope is the measures' own."""

import datetime as dt
from typing import Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied
from ninja import Router, Schema
from pydantic import Field

from bastion.core import scope
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS
from bastion.geo.identity import mask_id_number, mask_name
from bastion.geo.models import Household, Node, Resident
from bastion.quarantine.home import queries, services
from bastion.quarantine.home.models import HomeMeasure

router = Router(tags=["quarantine"])

Symptom = Literal["fever", "cough", "sore_throat", "fatigue", "taste_smell_loss", "diarrhoea"]


class MeasureOut(Schema):
    id: int
    kind: str
    name: str = Field(description="Masked.")
    doc_number: str = Field(description="Masked.")
    community_id: int | None
    grid_id: int | None
    household_id: int | None
    starts_on: dt.date
    ends_on: dt.date
    ended_at: dt.datetime | None
    source: str
    door_sensor: bool
    grid_chief_id: int | None


class DueOut(Schema):
    measure: MeasureOut
    halves: list[str]
    test_today: bool


class MeasureIn(Schema):
    client_id: UUID
    kind: Literal["isolation", "monitoring"]
    starts_on: dt.date
    ends_on: dt.date = Field(description="After the start.")
    reason: str = Field(max_length=200)
    source: Literal["close_contact", "community"] = "community"
    resident_id: int | None = Field(None, description="A registered resident (else the rest).")
    household_id: int | None = None
    node_id: int | None = Field(None, description="A community, grid, building or unit.")
    name: str = Field("", max_length=50)
    doc_kind: str = Field("id_card", max_length=16)
    doc_number: str = Field("", max_length=18)
    phone: str = Field("", max_length=11)
    door_sensor: bool = False


class ReportIn(Schema):
    client_id: UUID
    temperature: float = Field(description="°C, 34–43.")
    symptoms: list[Symptom] = Field([], max_length=6)
    half: Literal["am", "pm"] | None = Field(None, description="Default: the half-day now.")


class ReportOut(Schema):
    id: int
    measure_id: int
    day: dt.date
    half: str
    temperature: float
    abnormal: bool


class EndIn(Schema):
    reason: str = Field("", max_length=200, description="Required before the planned end.")


def _out(m: HomeMeasure) -> dict:
    return {
        "id": m.pk, "kind": m.kind, "name": mask_name(m.name),
        "doc_number": mask_id_number(m.doc_number), "community_id": m.community_id,
        "grid_id": m.grid_id, "household_id": m.household_id, "starts_on": m.starts_on,
        "ends_on": m.ends_on, "ended_at": m.ended_at, "source": m.source,
        "door_sensor": m.door_sensor, "grid_chief_id": m.grid_chief_id,
    }  # fmt: skip


def _for_change(request, measure_id: int) -> HomeMeasure:
    m = scope.get_scoped_or_404(HomeMeasure.objects.all(), request.auth, pk=measure_id)
    if not scope.allows(request.auth, scope.CHANGE, m):
        raise PermissionDenied("Your role may not change this.")
    return m


@router.get("/measures", response={200: list[MeasureOut], **READ_ERRORS})
def home_measures(request):
    """The people at home under a measure today (names and numbers masked)."""
    return [_out(m) for m in queries.measures_current(request.auth)[:1000]]


@router.get("/due", response={200: list[DueOut], **READ_ERRORS})
def home_due(request):
    """The people whose reports of today are not all in, or whose test is due today."""
    return [
        {"measure": _out(d.measure), "halves": d.halves, "test_today": d.test_today}
        for d in queries.due_today(request.auth)[:1000]
    ]


@router.get("/measures/{measure_id}", response={200: MeasureOut, **READ_ERRORS})
def home_measure(request, measure_id: int):
    return _out(scope.get_scoped_or_404(HomeMeasure.objects.all(), request.auth, pk=measure_id))


@router.post("/measures", response={200: MeasureOut, **WRITE_ERRORS})
def home_measure_place(request, payload: MeasureIn):
    """Place a person under home isolation or home health monitoring: a registered resident,
    or a person named with their document on a household or a home node."""
    user = request.auth
    resident = household = node = None
    if payload.resident_id is not None:
        resident = scope.get_scoped_or_404(Resident, user, scope.CHANGE, pk=payload.resident_id)
    if payload.household_id is not None:
        household = scope.get_scoped_or_404(Household, user, scope.CHANGE, pk=payload.household_id)
    if payload.node_id is not None:
        node = scope.get_scoped_or_404(Node, user, scope.CHANGE, pk=payload.node_id)
    measure = services.measure_place(
        actor=user, kind=payload.kind, starts_on=payload.starts_on, ends_on=payload.ends_on,
        reason=payload.reason, source=payload.source, resident=resident, household=household,
        node=node, name=payload.name, doc_kind=payload.doc_kind, doc_number=payload.doc_number,
        phone=payload.phone, door_sensor=payload.door_sensor, client_id=payload.client_id,
    )  # fmt: skip
    return _out(measure)


@router.post("/measures/{measure_id}/reports", response={200: ReportOut, **WRITE_ERRORS})
def home_report(request, measure_id: int, payload: ReportIn):
    """One of the twice-daily reports: temperature (34–43 °C) and symptoms. Refused (409) once
    the measure has ended or for a half-day reported already."""
    m = _for_change(request, measure_id)
    report = services.report_record(
        actor=request.auth, measure=m, temperature=payload.temperature,
        symptoms=payload.symptoms, half=payload.half, client_id=payload.client_id,
    )  # fmt: skip
    return {
        "id": report.pk, "measure_id": m.pk, "day": report.day, "half": report.half,
        "temperature": float(report.temperature), "abnormal": report.abnormal,
    }  # fmt: skip


@router.post("/measures/{measure_id}/end", response={200: MeasureOut, **WRITE_ERRORS})
def home_measure_end(request, measure_id: int, payload: EndIn):
    """End a measure: on its end day, or before it with a reason."""
    m = _for_change(request, measure_id)
    return _out(services.measure_end(actor=request.auth, measure=m, reason=payload.reason))
