"""Photos from a phone camera, for every module: checked by their content (JPEG, PNG or WebP,
never by the name or the type the sender claims; at most 5 MB each, four at most), then
stripped of their metadata (EXIF with the place and the phone, XMP, IPTC, comments, PNG text
chunks) before anything stores them. No image library: the segments or chunks that carry
metadata are dropped and the picture is kept byte for byte."""

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from bastion.core.errors import DomainError, Problem

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 4
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


@dataclass(frozen=True)
class CheckedPhoto:
    """A photo fit to store: its content already without metadata."""

    content: ContentFile
    content_type: str
    size: int


def photos_check(uploads: Iterable[UploadedFile], *, field: str = "photos") -> list[CheckedPhoto]:
    """The uploads as photos fit to store, or a DomainError naming `field` and each file that
    is too large or not a photo."""
    uploads = [u for u in uploads if u]
    if len(uploads) > MAX_PHOTOS:
        raise DomainError(_("At most %(n)d photos.") % {"n": MAX_PHOTOS}, field=field)
    problems, checked = [], []
    for upload in uploads:
        if upload.size > MAX_PHOTO_BYTES:
            problems.append(
                Problem(field, _("%(name)s is larger than 5 MB.") % {"name": upload.name})
            )
            continue
        upload.seek(0)
        data = upload.read()
        kind = _kind(data[:16])
        if kind is None:
            problems.append(
                Problem(
                    field, _("%(name)s is not a JPEG, PNG or WebP photo.") % {"name": upload.name}
                )
            )
            continue
        clean = metadata_strip(data, kind)
        checked.append(CheckedPhoto(ContentFile(clean, name="photo"), kind, len(clean)))
    if problems:
        raise DomainError(problems)
    return checked


def _kind(head: bytes) -> str | None:
    kind = next((t for sig, t in _SIGNATURES if head.startswith(sig)), None)
    if kind is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = "image/webp"
    return kind


# JPEG: APP1 (EXIF, XMP) … APP15 and COM carry metadata; APP0 (JFIF) stays, APP2 (the ICC
# colour profile) stays, APP14 (Adobe colour transform) stays.
_JPEG_DROP = {0xE1, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xEB, 0xEC, 0xED, 0xEF, 0xFE}
_PNG_DROP = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}
_WEBP_DROP = {b"EXIF", b"XMP "}


def _strip_jpeg(data: bytes) -> bytes:
    out = bytearray(data[:2])  # SOI
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            break
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the picture follows to the end
            out += data[i:]
            return bytes(out)
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker not in _JPEG_DROP:
            out += data[i : i + 2 + length]
        i += 2 + length
    out += data[i:]
    return bytes(out)


def _strip_png(data: bytes) -> bytes:
    out = bytearray(data[:8])
    i = 8
    while i + 8 <= len(data):
        length = struct.unpack(">I", data[i : i + 4])[0]
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if kind not in _PNG_DROP:
            out += data[i:end]
        i = end
    return bytes(out)


def _strip_webp(data: bytes) -> bytes:
    chunks = bytearray()
    i = 12
    while i + 8 <= len(data):
        kind = data[i : i + 4]
        length = struct.unpack("<I", data[i + 4 : i + 8])[0]
        end = i + 8 + length + (length & 1)
        chunk = bytearray(data[i:end])
        if kind == b"VP8X" and len(chunk) > 8:
            chunk[8] &= ~0x0C & 0xFF  # the EXIF and XMP flags
        if kind not in _WEBP_DROP:
            chunks += chunk
        i = end
    return b"RIFF" + struct.pack("<I", len(chunks) + 4) + b"WEBP" + bytes(chunks)


def metadata_strip(data: bytes, content_type: str) -> bytes:
    """The photo without its metadata (the same bytes for a type it does not know)."""
    strip = {"image/jpeg": _strip_jpeg, "image/png": _strip_png, "image/webp": _strip_webp}
    return strip.get(content_type, lambda d: d)(data)
