"""Photos from a phone camera: checked by `requests.services.photos_check` (JPEG, PNG or
WebP by content, at most 5 MB each, four at most), then stripped of their metadata (EXIF with
the place and the phone, XMP, IPTC, comments, PNG text chunks) before they are stored, with
no image library: the segments or chunks that carry it are dropped, the picture is kept
byte for byte."""

import struct
from dataclasses import dataclass

from django.core.files.base import ContentFile

from bastion.requests.services import CheckedPhoto, photos_check

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


@dataclass(frozen=True)
class CleanPhoto:
    content: ContentFile
    content_type: str
    size: int


def photos_clean(uploads, *, field: str = "photos") -> list[CleanPhoto]:
    """Check the uploads (refused naming `field`) and strip their metadata."""
    clean = []
    for checked in photos_check(uploads, field=field):
        clean.append(_clean(checked))
    return clean


def _clean(checked: CheckedPhoto) -> CleanPhoto:
    checked.upload.seek(0)
    data = metadata_strip(checked.upload.read(), checked.content_type)
    return CleanPhoto(ContentFile(data, name="photo"), checked.content_type, len(data))
