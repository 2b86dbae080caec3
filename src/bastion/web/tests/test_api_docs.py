"""docs/api.md shows real answers: each request of its checked block is sent, in order, as the
street commander of the test tree (in English), and the answer must be the documented status
and hold the documented JSON (every documented key with its value; a message ending in "…" up
to there). A change to an error shape or message fails here until the docs say it too."""

import json
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[4] / "docs" / "api.md"
MARKER = "<!-- answers: checked by web/tests/test_api_docs.py -->"
REQUEST = re.compile(r"^(GET|POST|PATCH|PUT|DELETE) (\S+)(?:\s+\(Content-Type: ([^)]+)\))?$")


def documented() -> list[dict]:
    text = DOCS.read_text(encoding="utf-8")
    block = text[text.index(MARKER) :].split("```text", 1)[1].split("```", 1)[0]
    cases = []
    for chunk in re.split(r"\n\s*\n", block.strip()):
        lines = [line.strip() for line in chunk.strip().splitlines()]
        method, path, content_type = REQUEST.match(lines[0]).groups()
        status, answer = lines[-1].removeprefix("→ ").split(" ", 1)
        cases.append(
            {
                "method": method,
                "path": path,
                "content_type": content_type or "application/json",
                "body": "\n".join(lines[1:-1]),
                "status": int(status),
                "answer": json.loads(answer),
            }
        )
    return cases


def holds(real, doc) -> bool:
    if isinstance(doc, dict):
        return isinstance(real, dict) and all(
            k in real and holds(real[k], v) for k, v in doc.items()
        )
    if isinstance(doc, list):
        return (
            isinstance(real, list)
            and len(real) == len(doc)
            and all(holds(r, d) for r, d in zip(real, doc, strict=True))
        )
    if isinstance(doc, str) and doc.endswith("…"):
        return isinstance(real, str) and real.startswith(doc[:-1])
    return real == doc


def test_the_block_is_there_and_covers_each_error_status():
    statuses = {case["status"] for case in documented()}
    assert {400, 404, 409, 415, 422} <= statuses


def test_every_documented_answer_is_what_the_api_answers(tree, api_as):
    from bastion.geo.models import Household

    household = Household.objects.filter(unit=tree.units[0]).order_by("pk").first()
    ids = {
        "unit": tree.units[0].pk,
        "household": household.pk,
        "resident": household.residents.order_by("pk").first().pk,
        "building": tree.buildings[0].pk,
    }
    client = api_as(tree.users["street"], **{"accept-language": "en"})
    for case in documented():
        path, body = case["path"], case["body"]
        for name, pk in ids.items():
            path, body = path.replace(f"{{{name}}}", str(pk)), body.replace(f"{{{name}}}", str(pk))
        send = getattr(client, case["method"].lower())
        response = send(path, body.encode(), content_type=case["content_type"])
        shown = f"{case['method']} {case['path']} {case['body']}"
        assert response.status_code == case["status"], (shown, response.content)
        assert holds(response.json(), case["answer"]), (shown, response.json())


@pytest.mark.parametrize("text", ["problems"])
def test_the_docs_never_name_the_old_error_key(text):
    assert f'"{text}"' not in DOCS.read_text(encoding="utf-8")
