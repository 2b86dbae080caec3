"""HTTP responses carrying workbooks, shared by the views and the API."""

import tempfile
from urllib.parse import quote

from django.http import FileResponse, HttpResponse

from bastion.ledgers import services

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPOOL_BYTES = 16 * 1024 * 1024  # exports bigger than this spill to a temporary file


def disposition(filename: str) -> str:
    """An attachment header that keeps a Chinese file name in every browser."""
    return f"attachment; filename=\"{quote(filename)}\"; filename*=UTF-8''{quote(filename)}"


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = disposition(filename)
    return response


def export_response(*, user, node, dataset: str, reveal: bool) -> FileResponse:
    """Run one export (residents or posts) into a spooled file and send it."""
    export = {"residents": services.residents_export, "posts": services.posts_export}[dataset]
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (FileResponse closes it)
    try:
        export(user=user, node=node, out=out, reveal=reveal)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    response = FileResponse(out, content_type=XLSX)
    response["Content-Disposition"] = disposition(services.export_filename(what=dataset, node=node))
    return response
