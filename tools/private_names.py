"""An import-linter contract: no app imports another app's private names.

import-linter's own contracts see modules, not names, so `from bastion.ledgers.services import
_widths` passes them all. This one reads the import statements of every module of the root
package and refuses a name starting with an underscore imported from another app (the first
two components of a dotted path: `bastion.ledgers`). Modules of the same app may share them.
"""

import ast
import importlib.util
from pathlib import Path

import grimp
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def _app(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _source(module: str) -> Path | None:
    """The file of `module`, found from its root package without importing the module."""
    root, *rest = module.split(".")
    base = Path(importlib.util.find_spec(root).origin).parent.joinpath(*rest)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _private_imports(module: str) -> list[tuple[int, str, str]]:
    """(line, imported module, name) of each private name `module` imports from elsewhere."""
    path = _source(module)
    if path is None:
        return []
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
            continue
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                found.append((node.lineno, node.module, alias.name))
    return found


class PrivateNamesContract(Contract):
    type_name = "private_names"

    root = fields.StringField()

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        root: str = self.root  # type: ignore[assignment]
        broken = [
            (module, line, imported, name)
            for module in sorted(graph.modules)
            if module.startswith(root + ".")
            for line, imported, name in _private_imports(module)
            if imported.startswith(root + ".") and _app(imported) != _app(module)
        ]
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for module, line, imported, name in check.metadata["broken"]:
            output.print_error(f"{module}:{line} imports the private name {name} of {imported}")
