"""The resident code printed per household (one code per member) and what a station scans.

A code is `R<resident id>-<6 check characters>`: uppercase letters, digits and a dash only,
so a USB scanner typing it as a keyboard gives the same text on any layout, and short enough
for a small QR code. The check characters are an HMAC of the id under the site's secret key,
so a code cannot be made up by counting ids.
"""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings

_CODE_RE = re.compile(r"^R(\d{1,15})-([A-Z2-7]{6})$")
_ID_RE = re.compile(r"^\d{17}[\dX]$")


def _check(resident_id: int) -> str:
    key = hashlib.sha256(b"bastion.testing.code:" + settings.SECRET_KEY.encode()).digest()
    digest = hmac.new(key, f"resident:{resident_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:5]).decode()[:6]


def resident_code(resident_id: int) -> str:
    return f"R{resident_id}-{_check(resident_id)}"


@dataclass(frozen=True)
class Scanned:
    """What a scanned text is: an ID number (to validate), a resident code, or neither."""

    id_number: str | None = None
    resident_id: int | None = None
    bad_code: bool = False


def read_scanned(text: str) -> Scanned:
    """Tell a resident code from an ID number. A code with a wrong check is `bad_code`."""
    value = (text or "").strip().upper()
    match = _CODE_RE.match(value)
    if match:
        resident_id = int(match.group(1))
        if hmac.compare_digest(_check(resident_id), match.group(2)):
            return Scanned(resident_id=resident_id)
        return Scanned(bad_code=True)
    if value.startswith("R") and "-" in value:
        return Scanned(bad_code=True)
    return Scanned(id_number=value)


def looks_like_id_number(text: str) -> bool:
    return bool(_ID_RE.match(text))
