"""Photos are checked by their content and stored without their metadata, whichever module
takes them."""

from django.core.files.uploadedfile import SimpleUploadedFile

from bastion.core.photos import metadata_strip, photos_check
from bastion.core.testing import jpeg_with_exif, png_bytes


def test_metadata_stripped_picture_kept():
    png = png_bytes(b"GPS 39.9N 116.4E; iPhone")
    assert b"GPS" not in metadata_strip(png, "image/png")
    assert metadata_strip(png, "image/png") == png_bytes()
    clean = metadata_strip(jpeg_with_exif(), "image/jpeg")
    assert b"GPS" not in clean and b"Exif" not in clean
    assert clean.startswith(b"\xff\xd8\xff\xe0") and clean.endswith(b"\x12\x34\xff\xd9")


def test_a_checked_photo_is_already_stripped():
    upload = SimpleUploadedFile("p.png", png_bytes(b"GPS 39.9N"), content_type="image/png")
    (checked,) = photos_check([upload])
    assert checked.content_type == "image/png"
    assert checked.content.read() == png_bytes() and checked.size == len(png_bytes())
