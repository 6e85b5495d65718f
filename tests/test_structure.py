"""The shape of the package, checked: small modules and functions, imports flowing one way,
the question analysed in one place, one source of defaults (settings.py) and a README
that matches it. Pure source analysis; no model."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "src" / "qa"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 50


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def qa_imports(path: Path) -> set[str]:
    """Every qa module this file imports, at top level or inside functions."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found.update(c for c in candidates if c.split(".")[0] == "qa" and c in ALL_NAMES and c != name)
    return found


ALL_NAMES = {module_name(p) for p in MODULES}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_module_is_short(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module_name(path)} has {lines} lines"


def test_no_function_is_longer_than_50_lines():
    long = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{module_name(path)}.{node.name}: {length} lines")
    assert not long


def import_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """The first import cycle found by a depth-first walk, as a path, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_structure_checks_can_fail(tmp_path):
    """The import walker sees function-level and relative imports, and the cycle finder finds
    a cycle when there is one (else the cycle check proves nothing)."""
    sample = PACKAGE / "api.py"
    assert {"qa.views", "qa.service", "qa.schemas", "qa.errors"} <= qa_imports(sample)
    assert "qa.onnx_encoder" in qa_imports(PACKAGE / "service.py")  # imported inside a method
    assert import_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert import_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycles():
    graph = {module_name(p): qa_imports(p) for p in MODULES}
    # a package's __init__ is imported with each of its modules; it must import none of them
    assert graph["qa.index"] == set() and graph["qa"] == set()
    cycle = import_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_only_query_reads_the_question_text():
    """Ranking, verdict and highlight get a Query; nobody else tokenizes a question."""
    for path in MODULES:
        source = path.read_text()
        if module_name(path) in ("qa.query", "qa.lexical", "qa.answer_types"):
            continue
        assert "quoted_phrases(" not in source and "expected_answer_type(" not in source, module_name(path)
        if module_name(path) not in ("qa.index.build", "qa.milvus.build", "qa.milvus.view"):  # passages, not questions
            assert not re.search(r"\btokenize\(", source), f"{module_name(path)} tokenizes"
    assert "lru_cache" not in (PACKAGE / "lexical.py").read_text().split("def stemmer")[1]


def test_defaults_are_not_repeated_outside_settings():
    literal = re.compile(r"(?<![\w.])(?:k|K|DEFAULT_K|max_k|MAX_K)\s*=\s*(?:5|20)\b|10 \* 1024 \* 1024|100_000|"
                         r"QA_INDEX\", \"index\"|efSearch\"?\s*[:=]\s*128")
    for path in MODULES:
        if path.name != "settings.py":
            assert not literal.search(path.read_text()), f"{module_name(path)} repeats a default"
    assert 'var K = "5"' not in (ROOT / "web" / "static" / "app.js").read_text()


def test_readme_settings_table_matches_settings():
    from qa.settings import markdown_table

    assert markdown_table() in (ROOT / "README.md").read_text(), "regenerate it with `qa settings --markdown`"
