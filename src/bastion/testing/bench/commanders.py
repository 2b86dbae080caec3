"""Fifty commanders at once, for `bastion bench commanders`: logins of a street's commanders
opening the street's daily-report dashboard and the round's coverage page over and over,
each a separate client process with a keep-alive connection and its own session.

The district is the bench's own (`district.district_build`); its daily report is computed for
today first, as the worker's tick does."""

from dataclasses import dataclass

COMMANDERS = 50


@dataclass
class Commanders:
    street_id: int
    paths: dict[str, str]  # label -> path
    cookies: list[dict]  # one login's headers per commander


def commanders_prepare(district, count: int = COMMANDERS) -> Commanders:
    """Today's report computed, `count` street commanders of the district's first street, and
    a session for each (the cookie a browser would send after logging in)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.urls import reverse

    from bastion.accounts.services import role_assign
    from bastion.geo.models import Node
    from bastion.reports import services as report_services

    report_services.report_compute(day=report_services.local_today())
    street = (
        Node.objects.filter(district_id=district.district_id, level="street").order_by("pk").first()
    )
    cookies = []
    for i in range(count):
        user, _new = User.objects.get_or_create(username=f"commander{i + 1:02d}")
        role_assign(user=user, role="street_commander", node=street)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies.append({"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"})
    return Commanders(
        street_id=street.pk,
        paths={
            "dashboard": reverse("reports:dashboard", args=[street.pk]),
            "coverage": reverse("testing:round", args=[district.round_id]),
        },
        cookies=cookies,
    )


def street_residents(street_id: int) -> int:
    from bastion.geo.models import Resident

    return Resident.objects.filter(street_id=street_id).count()
