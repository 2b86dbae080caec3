"""A stored file (a photo, an attachment) answered to the one who may see it: never cached by
a shared cache, never sniffed into another type, and a file missing from storage is a 404."""

from django.core.files import File
from django.http import FileResponse, Http404


def stored_file_response(file: File, content_type: str = "") -> FileResponse:
    try:
        handle = file.open("rb")
    except (FileNotFoundError, ValueError):  # gone from storage, or never saved
        raise Http404 from None
    response = FileResponse(handle, content_type=content_type or "application/octet-stream")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
