"""What a crew enters about a person, checked before anything is written: the temperature
(34–43 °C, outside that the thermometer was misread), the identity document (every kind the
testing module and `geo.identity` accept) and the mobile number."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from bastion.geo.identity import DOC_NONE, normalise_mobile, parse_document
from bastion.geo.models import DocKind

TEMPERATURE_MIN = Decimal("34.0")
TEMPERATURE_MAX = Decimal("43.0")
FEVER_FROM = Decimal("37.3")  # 发热: sent to a fever clinic from here


def temperature_check(value) -> Decimal:
    """The temperature to one decimal; ValidationError outside 34–43 °C."""
    try:
        reading = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Temperature must be a number of degrees Celsius.")) from None
    if not TEMPERATURE_MIN <= reading <= TEMPERATURE_MAX:
        raise ValidationError(
            _("Temperature %(t)s °C is outside 34–43 °C: measure again.") % {"t": reading}
        )
    return reading


def document_check(kind: str, number: str) -> str:
    """The normalised document number of `kind` (a `geo.models.DocKind`); a person at a
    checkpoint always shows one, so "none" is refused."""
    if kind == DOC_NONE or kind not in DocKind.values:
        raise ValidationError(_("Choose the kind of document the person shows."))
    return parse_document(kind, number).number


def phone_check(raw: str) -> str:
    """A mainland mobile number, or empty when none was given."""
    return normalise_mobile(raw) if (raw or "").strip() else ""
