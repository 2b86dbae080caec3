"""Validation of Chinese resident ID numbers (GB 11643-1999), of the other identity documents
residents carry (passports, permits, residence cards) and of mobile numbers."""

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
    if number[0] == "9" or number[:2] in ("81", "82", "83"):
        raise ValidationError(
            _(
                "This is the number of a permanent residence card or a residence permit, not "
                "of an ID card: choose that document kind."
            )
        )
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
    """An ID number with its first 4 and last 4 characters shown; any other document's number
    masked by its own length (`mask_document`)."""
    if number and len(number) != 18:
        return mask_document(number)
    return f"{number[:4]}{'*' * 10}{number[-4:]}" if number else ""


def mask_name(name: str) -> str:
    """A name with its first character shown (the family name of most Chinese names), the rest
    starred: enough for a station to call a person it must not otherwise know."""
    name = (name or "").strip()
    return f"{name[0]}{'*' * max(len(name) - 1, 1)}" if name else ""


def mask_mobile(number: str) -> str:
    return f"{number[:3]}****{number[-4:]}" if number else ""


# ------------------------------------------------------------------ other identity documents
# Each document kind has its own number format. The numbers are normalised (upper case, no
# spaces) so that the same document typed two ways is one number.

DOC_ID_CARD = "id_card"
DOC_HMT_RESIDENCE = "hmt_residence"
DOC_PR_CARD = "pr_card"
DOC_PASSPORT_CN = "passport_cn"
DOC_PASSPORT = "passport"
DOC_HK_MACAO_PERMIT = "hk_macao_permit"
DOC_TAIWAN_PERMIT = "taiwan_permit"
DOC_NONE = "none"

# PRC passports: E + 8 digits (e-passport), E + letter (not I or O) + 7 digits once the E
# numbers ran out, G + 8 digits (older ordinary passports), and DE/SE/PE + 7 digits
# (diplomatic, service, official).
_PASSPORT_CN_RE = re.compile(r"^(?:[EG]\d{8}|E[A-HJ-NP-Z]\d{7}|[DSP]E\d{7})$")
# Foreign passports differ per country: 5 to 17 letters and digits with at least one digit
# (the ICAO machine-readable document number field, with its overflow).
_PASSPORT_RE = re.compile(r"^(?=.*\d)[A-Z0-9]{5,17}$")
# 港澳居民来往内地通行证: H (Hong Kong) or M (Macao) + the 8-digit lifetime number, printed with
# 2 more digits (how many times it was issued) on the cards since 2013.
_HK_MACAO_RE = re.compile(r"^([HM]\d{8})(\d{2})?$")
# 台湾居民来往大陆通行证: the 8-digit lifetime number (一人一号 since 2008); older booklets print
# 2 more digits (issue count) and an issuing-office code in brackets.
_TAIWAN_RE = re.compile(r"^(\d{8})(?:\d{2}(?:\(?[A-Z0-9]\)?)?)?$")
# 外国人永久居留身份证, 2017 card: 3 letters (nationality, ISO 3166-1 alpha-3) + 12 digits:
# 2 of the accepting province, 6 of the birth date (YYMMDD), then sequence and check digits.
_PR_2017_RE = re.compile(r"^([A-Z]{3})(\d{2})(\d{6})(\d{4})$")
# Province codes (the first two digits of GB/T 2260 area codes).
_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65",
}  # fmt: skip


@dataclass(frozen=True)
class DocInfo:
    kind: str
    number: str
    birth_date: dt.date | None = None
    sex: str | None = None


def _compact(raw: str) -> str:
    return re.sub(r"[\s\-]", "", raw or "").upper()


def _gb11643_shaped(number: str, label: str) -> tuple[dt.date, str]:
    """Checks shared by the 18-digit numbers built like a resident ID number (residence
    permits, the 2023 permanent residence card): digits, MOD 11-2 check, birth date."""
    if not _ID_RE.match(number):
        raise ValidationError(
            _("%(doc)s number must be 17 digits followed by a digit or X.") % {"doc": label}
        )
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("%(doc)s number fails its check digit (GB 11643).") % {"doc": label}
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("%(doc)s number contains an impossible birth date.") % {"doc": label}
        ) from None
    if birth.year < 1890 or birth > dt.date.today():
        raise ValidationError(
            _("%(doc)s number contains an impossible birth date.") % {"doc": label}
        )
    return birth, "M" if int(number[16]) % 2 else "F"


def parse_document(kind: str, raw: str) -> DocInfo:
    """Normalise and validate the number of one identity document of `kind`; raise
    ValidationError naming the document. Documents built like the ID number give the birth
    date (and sex) too."""
    number = _compact(raw)
    if kind == DOC_ID_CARD:
        info = parse_id_number(number)
        return DocInfo(kind, info.number, info.birth_date, info.sex)
    if kind == DOC_HMT_RESIDENCE:
        label = _("Residence permit")
        if number[:6] not in ("810000", "820000", "830000"):
            raise ValidationError(
                _(
                    "Residence permit number of Hong Kong, Macao or Taiwan residents must "
                    "start with 810000, 820000 or 830000."
                )
            )
        birth, sex = _gb11643_shaped(number, label)
        return DocInfo(kind, number, birth, sex)
    if kind == DOC_PR_CARD:
        if len(number) == 18:
            if not number.startswith("9"):
                raise ValidationError(
                    _("Permanent residence card number (2023 card) must start with 9.")
                )
            birth, sex = _gb11643_shaped(number, _("Permanent residence card"))
            return DocInfo(kind, number, birth, sex)
        match = _PR_2017_RE.match(number)
        if not match:
            raise ValidationError(
                _(
                    "Permanent residence card number must be 18 digits starting with 9 (2023 "
                    "card) or 3 letters and 12 digits (2017 card)."
                )
            )
        if match.group(2) not in _PROVINCES:
            raise ValidationError(
                _("Permanent residence card number has an unknown province code %(code)s.")
                % {"code": match.group(2)}
            )
        try:
            dt.datetime.strptime(match.group(3), "%y%m%d")
        except ValueError:
            raise ValidationError(
                _("Permanent residence card number contains an impossible birth date.")
            ) from None
        return DocInfo(kind, number)
    if kind == DOC_PASSPORT_CN:
        if not _PASSPORT_CN_RE.match(number):
            raise ValidationError(
                _(
                    "Chinese passport number must be E or G and 8 digits, E, a letter and 7 "
                    "digits, or DE/SE/PE and 7 digits."
                )
            )
        return DocInfo(kind, number)
    if kind == DOC_PASSPORT:
        if not _PASSPORT_RE.match(number):
            raise ValidationError(
                _("Passport number must be 5 to 17 letters and digits, with at least one digit.")
            )
        return DocInfo(kind, number)
    if kind == DOC_HK_MACAO_PERMIT:
        match = _HK_MACAO_RE.match(number)
        if not match:
            raise ValidationError(
                _("Hong Kong/Macao permit number must be H or M followed by 8 or 10 digits.")
            )
        return DocInfo(kind, match.group(1))
    if kind == DOC_TAIWAN_PERMIT:
        match = _TAIWAN_RE.match(number)
        if not match:
            raise ValidationError(
                _("Taiwan permit number must be 8 digits (or 10 on old booklets).")
            )
        return DocInfo(kind, match.group(1))
    raise ValidationError(_("Unknown document kind."))


def mask_document(number: str) -> str:
    """A document number with only its first 2 and last 2 characters shown (4 and 4 for the
    18-character ones, as ID numbers)."""
    if not number:
        return ""
    if len(number) >= 15:
        return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"
    return f"{number[:2]}{'*' * max(len(number) - 4, 1)}{number[-2:]}"


def make_pr_2023_number(province: str, nationality: str, birth: dt.date, sequence: int) -> str:
    """Build a valid 2023 permanent residence card number (for tests and the demo)."""
    first17 = f"9{province}{nationality}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def make_residence_permit_number(region: str, birth: dt.date, sequence: int) -> str:
    """Build a valid residence permit number; `region` is 81 (HK), 82 (Macao) or 83 (Taiwan)."""
    return make_id_number(f"{region}0000", birth, sequence)
