"""The resident code printed per household (one code per member), the household's family code,
and what a station scans.

A code is `R<resident id>-<6 check characters>` (a family code `F<household id>-<6>`):
uppercase letters, digits and a dash only, so a USB scanner typing it as a keyboard gives the
same text on any layout, and short enough for a small QR code. The check characters are an
HMAC of the id under the site's secret key, so a code cannot be made up by counting ids.
"""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from bastion.core.errors import DomainError
from bastion.geo.identity import (
    DOC_HK_MACAO_PERMIT,
    DOC_TAIWAN_PERMIT,
    parse_document,
)
from bastion.geo.models import Resident

_CODE_RE = re.compile(r"^([RF])(\d{1,15})-([A-Z2-7]{6})$")


_ID_RE = re.compile(r"^\d{17}[\dX]$")


# What may be another document's number: letters and digits with at least one digit.
_DOCUMENT_RE = re.compile(r"^(?=.*\d)[A-Z0-9()]{5,18}$")


# Runs of digits are (mistyped) ID numbers, refused with the ID number's reasons, but for the
# lengths of documents made of digits only: Taiwan permits (8, old 10), some passports (9).
_LONG_NUMBER_RE = re.compile(r"^(?!\d{8,10}$)\d+X?$")


def _check(resident_id: int, what: str = "resident") -> str:
    key = hashlib.sha256(b"bastion.testing.code:" + settings.SECRET_KEY.encode()).digest()
    digest = hmac.new(key, f"{what}:{resident_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:5]).decode()[:6]


def resident_code(resident_id: int) -> str:
    return f"R{resident_id}-{_check(resident_id)}"


def family_code(household_id: int) -> str:
    """One code per household: scanned at a station, it samples every present member not yet
    sampled into the open tube (`testing.scans.family`)."""
    return f"F{household_id}-{_check(household_id, 'household')}"


@dataclass(frozen=True)
class Scanned:
    """What a scanned text is: an ID number (to validate), a resident code, a family code,
    another document's number, or neither."""

    id_number: str | None = None
    resident_id: int | None = None
    bad_code: bool = False
    household_id: int | None = None
    document: str | None = None  # a passport, permit or residence card number


def read_scanned(text: str) -> Scanned:
    """Tell a resident or family code from an ID number or another document's number. A code
    with a wrong check is `bad_code`."""
    value = re.sub(r"\s", "", text or "").upper()
    match = _CODE_RE.match(value)
    if match:
        kind, number = match.group(1), int(match.group(2))
        what = "resident" if kind == "R" else "household"
        if not hmac.compare_digest(_check(number, what), match.group(3)):
            return Scanned(bad_code=True)
        return Scanned(resident_id=number) if kind == "R" else Scanned(household_id=number)
    if value[:1] in ("R", "F") and "-" in value:
        return Scanned(bad_code=True)
    permit_shaped = _ID_RE.match(value) and (value[0] == "9" or value[:2] in ("81", "82", "83"))
    if _DOCUMENT_RE.match(value) and (permit_shaped or not _LONG_NUMBER_RE.match(value)):
        return Scanned(document=_document_key(value))
    return Scanned(id_number=value)  # refused as a bad ID number, with its reason


def is_family_code(text: str) -> bool:
    return (text or "").lstrip()[:1] in ("F", "f") and read_scanned(text).household_id is not None


def _document_key(value: str) -> str:
    """The stored form of a scanned document number: permits print their issue count after
    the lifetime number (H/M + 8 digits, Taiwan 8 digits), which is what is stored."""
    for kind in (DOC_HK_MACAO_PERMIT, DOC_TAIWAN_PERMIT):
        try:
            return parse_document(kind, value).number
        except ValidationError:
            continue
    return value


def documents_resolve(numbers: set[str]) -> dict[str, int | None]:
    """Document number -> resident id, for a batch of scanned numbers, in one query. A number
    held by two residents (different kinds) maps to None: the crew must pick by name."""
    found: dict[str, int | None] = {}
    if not numbers:
        return found
    rows = Resident.objects.filter(doc_number__in=numbers).values_list("doc_number", "pk")
    for number, pk in rows:
        found[number] = None if number in found else pk
    return found


def looks_like_id_number(text: str) -> bool:
    return bool(_ID_RE.match(text))


_BARCODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,39}$")


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
