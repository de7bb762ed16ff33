"""The package's layering, checked on the sources: which wing may import which, no Streamlit below the
pages, no file reading in analysis and plots, and no import circles anywhere in ``tuning/`` and ``pages/``.

A short AST walk: every ``import``/``from ... import`` counts, also inside functions and under
``TYPE_CHECKING``, because a circle that only type checkers follow is still a circle for a reader.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_WIDE = {"tuning", "tuning.errors", "tuning.settings", "tuning.cli", "tuning.__main__"}

# wing -> the wings (and package-wide modules) it may import, besides itself
ALLOWED: dict[str, set[str]] = {
    "tuning.errors": set(),
    "tuning.settings": {"tuning.errors"},
    "tuning.store": {"tuning.errors"},
    "tuning.data": {"tuning.errors"},
    "tuning.space": {"tuning.errors", "tuning.data"},
    "tuning.engine": {"tuning", "tuning.errors", "tuning.settings", "tuning.store", "tuning.space", "tuning.data"},
    "tuning.results": {"tuning.errors", "tuning.settings", "tuning.store"},
    "tuning.analysis": {"tuning.errors", "tuning.space", "tuning.results.model"},
    "tuning.plots": {"tuning.errors", "tuning.space", "tuning.analysis", "tuning.results.model"},
    "tuning.export": {"tuning", "tuning.errors", "tuning.space", "tuning.results", "tuning.analysis", "tuning.plots"},
}
FILE_READERS = {"open", "read_text", "read_bytes", "load", "loads", "read_csv", "read_json", "read_parquet"}
NO_FILES = ("tuning.analysis", "tuning.plots")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> dict[str, Path]:
    files = [*ROOT.glob("tuning/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py"]
    return {module_name(f): f for f in files}


MODULES = sources()


def imports_of(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every module ``name`` imports (absolute names), with the line of the import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno
            for alias in node.names:  # `from tuning.engine import jobs` imports the module tuning.engine.jobs
                if f"{base}.{alias.name}" in MODULES:
                    yield f"{base}.{alias.name}", node.lineno


def local_imports(name: str) -> set[str]:
    return {target for target, _ in imports_of(name, MODULES[name]) if target in MODULES and target != name}


def wing_of(name: str) -> str:
    if name in PACKAGE_WIDE or not name.startswith("tuning."):
        return name
    return ".".join(name.split(".")[:2])


def permitted(target: str, allowed: set[str]) -> bool:
    if target == "tuning":
        return "tuning" in allowed
    return any(target == a or target.startswith(a + ".") for a in allowed)


@pytest.mark.parametrize("wing", sorted(ALLOWED))
def test_each_wing_imports_only_what_it_may(wing: str) -> None:
    broken = []
    for name, path in MODULES.items():
        if wing_of(name) != wing:
            continue
        for target, line in imports_of(name, path):
            if not target.startswith("tuning") or wing_of(target) == wing:
                continue
            if not permitted(target, ALLOWED[wing]):
                broken.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not broken, f"{wing} may import only {sorted(ALLOWED[wing])}:\n" + "\n".join(broken)


def test_no_module_of_tuning_imports_streamlit() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for name, path in MODULES.items()
        if name.startswith("tuning")
        for target, line in imports_of(name, path)
        if target.split(".")[0] == "streamlit"
    ]
    assert not found, "tuning/ must never import Streamlit:\n" + "\n".join(found)


@pytest.mark.parametrize("wing", NO_FILES)
def test_analysis_and_plots_never_read_files(wing: str) -> None:
    found = []
    for name, path in MODULES.items():
        if wing_of(name) != wing:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if called in FILE_READERS:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {called}()")
    assert not found, f"{wing} works on results in memory; tuning.results reads files:\n" + "\n".join(found)


def test_pages_only_call_tuning() -> None:
    """Pages import Streamlit, display libraries and ``tuning``; never the model libraries or a process."""
    forbidden = {"keras", "keras_tuner", "tensorflow", "subprocess", "multiprocessing"}
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for name, path in MODULES.items()
        if not name.startswith("tuning")
        for target, line in imports_of(name, path)
        if target.split(".")[0] in forbidden
    ]
    assert not found, "pages/ call tuning/ for models and processes:\n" + "\n".join(found)


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` (a list of modules, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (circle := visit(nxt)):
                return circle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (circle := visit(start)):
            return circle
    return None


def test_no_import_circles() -> None:
    graph = {name: local_imports(name) for name in MODULES}
    circle = find_circle(graph)
    assert circle is None, "import circle: " + " -> ".join(circle or [])


def test_the_circle_finder_finds_circles() -> None:
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_rules_catch_a_forbidden_import(tmp_path: Path) -> None:
    """The import walk sees relative, aliased and function-level imports (so the rules above can fail)."""
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from tuning.engine import jobs as j\n    import streamlit.runtime\n")
    found = {target for target, _ in imports_of("tuning.analysis.probe", source)}
    assert {"tuning.engine", "tuning.engine.jobs", "streamlit.runtime"} <= found
    assert not permitted("tuning.engine.jobs", ALLOWED["tuning.analysis"])
    assert permitted("tuning.results.model", ALLOWED["tuning.analysis"])
    assert not permitted("tuning.results.reader", ALLOWED["tuning.analysis"])


def test_the_analyse_page_s_modules_load_without_optuna_or_scikit_learn() -> None:
    """Optuna and scikit-learn take about a second to import: only estimating an importance may load them."""
    probe = (
        "import sys\n"
        "import pages._analyse_tabs, tuning.analysis.findings, tuning.plots.importance, tuning.export.report\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'optuna', 'sklearn'}))\n"
        "from tests.analysis.make import synthetic\n"
        "from tuning.analysis.anova import optuna_importance\n"
        "from tuning.analysis.importance import importance\n"
        "result = synthetic(40)\n"
        "assert importance(result).names and optuna_importance(result).names\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'optuna', 'sklearn'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "['optuna', 'sklearn']"], done.stdout
