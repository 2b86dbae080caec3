"""Chinese vehicle plates (GA 36-2018), read the way a checkpoint crew types them: the
province's character, the issuing office's letter, then the serial.

* ordinary plates, 7 characters: 京A12345, 粤B1C234 (serial: 5 letters or digits, no I or O);
* trailers, coaches and police, 7 characters ending in 挂 / 学 / 警: 鲁H1234挂;
* new-energy plates, 8 characters: small cars D or F (pure electric, hybrid) then a letter or
  digit and 4 digits (沪AD12345, 沪AFA1234); large vehicles 5 digits then D or F
  (京A12345D).

Embassy (使), consulate (领), military and Hong Kong/Macao cross-border plates are out of scope:
they are refused as not a plate of the mainland's ordinary series, with that said."""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTER = "A-HJ-NP-Z"  # no I or O: they read as 1 and 0
_ALNUM = f"{_LETTER}0-9"
_ORDINARY = re.compile(rf"^[{PROVINCES}][{_LETTER}][{_ALNUM}]{{5}}$")
_SUFFIXED = re.compile(rf"^[{PROVINCES}][{_LETTER}][{_ALNUM}]{{4}}[挂学警]$")
_NEW_SMALL = re.compile(rf"^[{PROVINCES}][{_LETTER}][DF][{_ALNUM}]\d{{4}}$")
_NEW_LARGE = re.compile(rf"^[{PROVINCES}][{_LETTER}]\d{{5}}[DF]$")
_SEPARATORS = re.compile(r"[\s·•.\-]")

ORDINARY = "ordinary"
TRAILER = "trailer"
NEW_ENERGY = "new_energy"


@dataclass(frozen=True)
class Plate:
    number: str  # normalised: no separators, upper case
    series: str  # ordinary, trailer (any 7-character plate with a suffix), new_energy


def plate_parse(raw: str) -> Plate:
    """The normalised plate for what the crew typed; ValidationError saying what is wrong."""
    number = _SEPARATORS.sub("", raw or "").upper()
    if not number:
        raise ValidationError(_("Enter the plate."))
    if number[0] not in PROVINCES:
        raise ValidationError(
            _("A plate starts with a province's character (京, 沪, 粤 ...): %(plate)s.")
            % {"plate": number}
        )
    if len(number) == 8:
        if _NEW_SMALL.match(number) or _NEW_LARGE.match(number):
            return Plate(number, NEW_ENERGY)
        raise ValidationError(
            _(
                "An 8-character plate is a new-energy plate: D or F and 5 more (沪AD12345) or "
                "5 digits and D or F (京A12345D): %(plate)s."
            )
            % {"plate": number}
        )
    if len(number) != 7:
        raise ValidationError(
            _("A plate has 7 characters (8 for new-energy vehicles): %(plate)s has %(n)s.")
            % {"plate": number, "n": len(number)}
        )
    if _SUFFIXED.match(number):
        return Plate(number, TRAILER)
    if _ORDINARY.match(number):
        return Plate(number, ORDINARY)
    raise ValidationError(
        _(
            "After the province, a plate has the office's letter and 5 letters or digits "
            "(no I or O), or 4 and 挂: %(plate)s."
        )
        % {"plate": number}
    )
