"""The ledger exports as HTTP responses, shared by the views and the API (a workbook already
in memory goes out through `core.sheets.responses.xlsx_response`)."""

import tempfile

from django.http import FileResponse

from bastion.core.sheets.responses import XLSX, disposition
from bastion.ledgers import services

SPOOL_BYTES = 16 * 1024 * 1024  # exports bigger than this spill to a temporary file


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
