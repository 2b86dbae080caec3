"""Fixtures of the requests tests, on the small known tree (bastion.core.testing): households
on the grid chief's grid and on the next one, two meetings of the first community, a courier
with a login, and `bring(state)` which walks a new request to any state through the services."""

import datetime as dt
import io
import struct
import uuid
import zlib

import pytest
from django.utils import timezone

from bastion.accounts.services import role_assign
from bastion.accounts.testing import login
from bastion.geo.models import Household
from bastion.people.services import person_create
from bastion.requests import services
from bastion.requests.models import Request


def make_png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    """A real PNG of one colour (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


PNG = make_png()

# (status, track) of every state a request can be in; walked to by `bring`.
STATES = [
    ("new", ""),
    ("waiting", "handle_now"),
    ("claimed", "handle_now"),
    ("done", "handle_now"),
    ("closed", "handle_now"),
    ("on_agenda", "consult"),
    ("assigned", "consult"),
    ("done", "consult"),
    ("reported", "consult"),
    ("closed", "consult"),
]


def png_upload(name: str = "photo.png", content: bytes = PNG):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="image/png")


def households_of(grid) -> list[Household]:
    return list(
        Household.objects.filter(grid_id=grid.pk).order_by(
            "building__code", "unit__code", "floor", "room"
        )
    )


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def english(settings):
    """Refusals are asserted by their words: read them in English (the msgids), whatever
    the catalogue says. Pages follow, unless the browser asks for another language."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def household(tree):
    return households_of(tree.grids[0])[0]


@pytest.fixture
def other_household(tree):
    return households_of(tree.grids[1])[0]


@pytest.fixture
def staff(tree):
    return tree.users["grid"]


@pytest.fixture
def meetings(tree, staff):
    """The first community's meeting a week ago (held) and the one next week (planned)."""
    now = timezone.now()
    community = tree.communities[0]
    earlier = services.meeting_schedule(
        actor=tree.users["community"],
        community=community,
        title="上月议事会",
        starts_at=now - dt.timedelta(days=7),
    )
    later = services.meeting_schedule(
        actor=tree.users["community"],
        community=community,
        title="本月议事会",
        starts_at=now + dt.timedelta(days=7),
    )
    return earlier, later


@pytest.fixture
def courier(tree):
    """A volunteer with a login of their own, living on the chief's grid."""
    user = login("courier", None, None)
    role_assign(user=user, role="volunteer", node=tree.grids[0])
    person = person_create(
        name="志愿者小王",
        kind="volunteer",
        phone="13900000001",
        home=households_of(tree.grids[0])[5],
    )
    person.user = user
    person.save()
    return person


@pytest.fixture
def make_request(staff, household):
    def _make(**kwargs) -> Request:
        values = {
            "actor": staff,
            "household": household,
            "channel": "phone",
            "category": "drainage",
            "title": "下水道堵了",
        } | kwargs
        return services.request_create(**values)

    return _make


@pytest.fixture
def bring(make_request, staff, meetings):
    """bring(status, track) -> a request in that state, walked there by the services."""
    earlier, later = meetings

    def _bring(status: str, track: str = "", **kwargs) -> Request:
        r = make_request(**kwargs)
        if status == "new":
            return r
        if track == "handle_now":
            r = services.request_triage(actor=staff, request=r, track="handle_now")
            if status == "waiting":
                return r
            r = services.request_claim(actor=staff, request=r)
            if status == "claimed":
                return r
            r = services.request_done(actor=staff, request=r, result="已疏通")
            if status == "done":
                return r
            return services.request_rate(actor=staff, request=r, rating=5)
        # consult: onto the earlier meeting, assigned there, reported at the later one
        r = services.request_triage(actor=staff, request=r, track="consult")
        Request.objects.filter(pk=r.pk).update(meeting=earlier)
        r.refresh_from_db()
        if status == "on_agenda":
            return r
        r = services.request_assign(
            actor=staff,
            request=r,
            assignee="物业公司",
            due_on=timezone.localdate() + dt.timedelta(days=3),
        )
        if status == "assigned":
            return r
        r = services.request_done(actor=staff, request=r, result="已更换管道")
        if status == "done":
            return r
        r = services.request_report_back(actor=staff, request=r, meeting=later, note="已完成")
        if status == "reported":
            return r
        return services.request_rate(actor=staff, request=r, rating=4)

    return _bring


def client_id() -> uuid.UUID:
    return uuid.uuid4()


def stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)
