"""Validation of Chinese resident ID numbers (GB 11643-1999) and mobile numbers."""

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_ID_RE = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


@dataclass(frozen=True)
class IdInfo:
    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def parse_id_number(raw: str) -> IdInfo:
    """Normalise and validate an 18-digit ID number; raise ValidationError with the reason."""
    number = (raw or "").strip().upper()
    if not _ID_RE.match(number):
        raise ValidationError(_("ID number must be 17 digits followed by a digit or X."))
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(_("ID number fails the GB 11643 checksum."))
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("ID number contains an impossible birth date.")) from None
    if birth.year < 1890 or birth > dt.date.today():
        raise ValidationError(_("ID number contains an impossible birth date."))
    sex = "M" if int(number[16]) % 2 else "F"
    return IdInfo(number=number, birth_date=birth, sex=sex)


def make_id_number(area: str, birth: dt.date, sequence: int) -> str:
    """Build a valid ID number; `sequence` 0..999 gives the order code (its parity is the sex)."""
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def normalise_mobile(raw: str) -> str:
    """Validate a mainland mobile number (11 digits starting 13-19); return it without spaces."""
    number = re.sub(r"[\s-]", "", raw or "")
    if number.startswith("+86"):
        number = number[3:]
    if not _MOBILE_RE.match(number):
        raise ValidationError(_("Mobile number must be 11 digits starting with 13–19."))
    return number


def mask_id_number(number: str) -> str:
    return f"{number[:4]}{'*' * 10}{number[-4:]}" if number else ""


def mask_mobile(number: str) -> str:
    return f"{number[:3]}****{number[-4:]}" if number else ""
