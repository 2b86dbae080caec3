"""QR codes of the households' links, drawn as SVG on the server (segno: pure Python, no
imaging library), so a page prints them sharp at any size and works with no internet."""

import segno
from django.utils.safestring import SafeString, mark_safe

QUIET_ZONE = 4  # modules of white around the code, as the standard asks


def svg(data: str, *, title: str = "") -> SafeString:
    """An inline <svg> that scales with its box (no width or height of its own)."""
    code = segno.make(data, error="m", micro=False)
    markup = code.svg_inline(
        scale=1,
        border=QUIET_ZONE,
        omitsize=True,
        svgclass="qr",
        lineclass=None,
        title=title or None,
    )
    return mark_safe(markup)  # noqa: S308 - segno's own markup, the data is escaped by it
