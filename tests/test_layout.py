"""The package's import structure: no cycle, and each folder imports only the layers below it.

Layers, bottom to top: ``extensions``/``tokenizer``/``models`` -> ``relations`` -> ``corpus`` -> ``concepts``
-> ``kb`` (knowledge bases: library layer, beside ``corpus``), ``pretraining`` (masked-LM pretraining of the encoder:
``corpus``, ``errors`` and ``models`` only) -> ``scoring``, ``pipeline`` (never each other)
-> ``output`` (the record and its writers) -> ``batch``, ``serving`` -> ``cli`` (``batch``, ``serving`` and ``cli``:
the application layer, imported by no library module).
"""
import ast
from pathlib import Path
from typing import Dict, Set

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "spacy_biobert"
ROOT = "spacy_biobert"
# room -> rooms it may import (besides itself)
ALLOWED = {
    "errors": set(),
    "extensions": set(),
    "heap": set(),
    "tokenizer": set(),
    "models": set(),
    "relations": {"extensions"},
    "corpus": {"errors", "extensions", "relations"},
    "concepts": {"corpus"},
    "kb": {"concepts", "corpus", "errors", "extensions"},
    "pretraining": {"corpus", "errors", "models"},
    "scoring": {"concepts", "corpus", "relations"},
    "pipeline": {"concepts", "corpus", "extensions", "heap", "kb", "models", "relations"},
    "output": {"concepts", "corpus", "kb", "pipeline", "relations"},
    "batch": {"corpus", "errors", "output", "pipeline"},
    "serving": {"concepts", "corpus", "errors", "extensions", "heap", "kb", "models", "output", "pipeline", "relations",
                "scoring", "tokenizer"},
    "cli": {"batch", "concepts", "corpus", "extensions", "kb", "models", "output", "pipeline", "pretraining", "relations",
            "scoring", "serving", "tokenizer"},
    "__init__": {"concepts", "corpus", "kb", "relations"},
    "__main__": {"cli"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str) -> Set[str]:
    """The package modules ``name`` imports, relative imports resolved."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            prefix = ".".join(base + ([node.module] if node.module else []))
            targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in MODULES else prefix for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != name)
    return found


GRAPH: Dict[str, Set[str]] = {name: imports_of(name) for name in MODULES}


def room(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_belongs_to_a_known_room():
    assert {room(name) for name in MODULES} <= set(ALLOWED)


def test_graph_sees_imports():
    assert "spacy_biobert.concepts" in GRAPH["spacy_biobert.pipeline.rel"]
    assert "spacy_biobert.corpus.builder" in GRAPH["spacy_biobert.corpus.pubtator"]


def test_no_import_cycle():
    state: Dict[str, int] = {}

    def visit(node: str, path: list) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                pytest.fail("import cycle: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_only_lower_layers(name):
    upward = {t for t in GRAPH[name] if room(t) != room(name) and room(t) not in ALLOWED[room(name)]}
    assert not upward, f"{name} imports {sorted(upward)}, above its layer"
