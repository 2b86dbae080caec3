"""The published API does not change by accident: its OpenAPI schema equals the copy committed
in docs/openapi.json. A change on purpose updates the copy (`make openapi`) in the same commit,
so the diff shows every operation and model a client will see change."""

import json
from pathlib import Path

from bastion.api import api

COMMITTED = Path(__file__).resolve().parents[4] / "docs" / "openapi.json"


def _differences(committed: dict, served: dict, where: str = "") -> list[str]:
    if isinstance(committed, dict) and isinstance(served, dict):
        return [
            d
            for key in sorted(set(committed) | set(served))
            for d in (
                [f"{where}/{key}: only in the committed copy"]
                if key not in served
                else [f"{where}/{key}: new"]
                if key not in committed
                else _differences(committed[key], served[key], f"{where}/{key}")
            )
        ]
    return [] if committed == served else [f"{where}: {committed!r} → {served!r}"]


def test_the_schema_is_the_committed_one():
    served = json.loads(json.dumps(api.get_openapi_schema()))
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    differences = _differences(committed, served)
    assert not differences, "the API changed; if on purpose, run `make openapi`:\n" + "\n".join(
        differences[:40]
    )


def test_operation_ids_keep_their_names_when_a_module_moves():
    """An API module may name its operations' prefix; ids are `<prefix>_<function>`."""
    ids = [
        op["operationId"]
        for path in api.get_openapi_schema()["paths"].values()
        for op in path.values()
    ]
    assert "bastion_testing_api_scan_create" in ids
    assert len(ids) == len(set(ids))
