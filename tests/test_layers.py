"""The layers of README's "Where things live" point one way: a module imports
only from its own layer or the ones below. Policy and storage never import
reporting; reporting reads through the case module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "mailflow"

# Bottom first. Keep in step with README.md, "Where things live".
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("words", ("vocabulary", "values", "sanitize", "morphology", "case.states")),
    ("policy", ("config", "rules_schema", "access", "rules", "workdays", "deadlines")),
    ("storage", ("models", "db", "coverage", "journal", "leases", "replay", "archive", "migrations")),
    ("case", ("case",)),
    (
        "reading",
        (
            "mime",
            "automatic",
            "authentication",
            "signatures",
            "extract",
            "extract.engine",
            "receipts",
            "resolution_text",
        ),
    ),
    (
        "acts",
        (
            "registration",
            "routing",
            "resolution",
            "answering",
            "extension",
            "proof",
            "scans",
            "correction",
            "redirect",
            "anonymity",
            "repeats",
            "monitoring",
            "talon",
            "notices",
            "outbox",
            "replies",
            "report_review",
            "substitutes",
            "checkpoint",
        ),
    ),
    ("intake", ("mailbox", "triage", "intake")),
    (
        "reporting",
        ("digest", "digest_render", "export", "xlsx_stream", "dashboard", "importing", "talon_pdf"),
    ),
    ("sweeps", ("chasing", "sweeps")),
    ("services", ("services", "queues", "status")),
    ("entry", ("daemon", "cli", "web", "__main__", "__init__")),
)
_LEVEL = {name: i for i, (_, names) in enumerate(LAYERS) for name in names}


def level(module: str) -> int:
    """The layer of a dotted module name under mailflow (longest listed prefix)."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in _LEVEL:
            return _LEVEL[".".join(parts[:n])]
    raise KeyError(f"mailflow.{module} is in no layer: add it to LAYERS and README.md")


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" and len(rel.parts) > 1 else rel.parts
    return ".".join(parts)


def imports(path: Path, source: str | None = None) -> set[str]:
    """The mailflow modules a file imports at run time (not under TYPE_CHECKING)."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    package = list(path.relative_to(ROOT).parts[:-1])
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "mailflow":
                target = node.module.split(".")[1:]
            else:
                continue
            for alias in node.names:
                dotted = ".".join([*target, alias.name])
                is_module = (ROOT / Path(*target, alias.name)).with_suffix(".py").exists() or (
                    ROOT / Path(*target, alias.name)
                ).is_dir()
                found.add(dotted if is_module else ".".join(target))
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".", 1)[1] for a in node.names if a.name.startswith("mailflow."))
    return {f for f in found if f}


def _runtime_nodes(node: ast.AST):
    yield node
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            continue  # type-only imports may point anywhere
        yield from _runtime_nodes(child)


def violations(path: Path, source: str | None = None) -> list[str]:
    me = _module_name(path)
    mine = level(me)
    return [
        f"mailflow.{me} ({LAYERS[mine][0]}) imports mailflow.{dep} ({LAYERS[level(dep)][0]})"
        for dep in sorted(imports(path, source))
        if level(dep) > mine
    ]


def test_every_module_imports_only_downwards():
    files = sorted(p for p in ROOT.rglob("*.py") if "migrations/versions" not in p.as_posix())
    assert len(files) > 50
    problems = [v for f in files for v in violations(f)]
    assert problems == []


@pytest.mark.parametrize(
    "source, bad",
    [
        ("from ..digest import weekly\n", True),
        ("from .. import digest_render\n", True),
        ("import mailflow.export\n", True),
        ("from ..vocabulary import KINDS\n", False),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..digest import Weekly\n", False),
    ],
)
def test_an_upward_import_is_caught(source, bad):
    # a storage module importing reporting is the kind of import this guards against
    assert (
        bool(
            violations(ROOT / "journal.py", source)
            if source.startswith("import")
            else violations(ROOT / "case" / "queries.py", source)
        )
        is bad
    )
