"""The package's layers (docs/architecture.md), checked from the source: imports point down, no
import cycle leaves sim/model/, the CLI holds no logic, `icsim --help` imports no science."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sim"

# lower layers first; a module may import its own layer and those before it
LAYERS = (
    ("base", {"sim.errors", "sim.files", "sim.units"}),
    ("inputs", {"sim.inputs"}),
    ("model", {"sim.model"}),
    ("experiment", {"sim.experiment"}),
    ("outputs", {"sim.outputs"}),
    ("calibrate", {"sim.calibrate"}),
    ("workflows", {"sim.workflows", "sim.jobs"}),
    ("front ends", {"sim.cli", "sim.notebook", "sim.__main__", "sim", "sim.app"}),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    best = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            inside = module == prefix or (prefix != "sim" and module.startswith(prefix + "."))
            if inside and (best is None or len(prefix) > best[1]):
                best = (rank, len(prefix))
    assert best is not None, f"{module}: in no layer; add it to LAYERS and docs/architecture.md"
    return best[0]


def imports_of(path: Path) -> set[str]:
    """sim modules imported anywhere in the file (inside functions too)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if _ours(target):
                for alias in node.names:  # `from . import beds` imports the module sim.model.beds
                    candidate = f"{target}.{alias.name}"
                    found.add(candidate if _exists(candidate) else target)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if _ours(a.name)}
    return found


def _ours(module: str) -> bool:
    return module == "sim" or module.startswith("sim.")


def _exists(module: str) -> bool:
    relative = Path(*module.split("."))
    return (PACKAGE.parent / relative).with_suffix(".py").is_file() or (PACKAGE.parent / relative / "__init__.py").is_file()


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def test_layer_rule_is_checked_on_a_known_import():
    """The checker sees a relative import of a module in a lower layer."""
    assert "sim.inputs.scenario" in imports_of(PACKAGE / "model" / "system.py")
    assert layer_of("sim.model.system") > layer_of("sim.inputs.scenario")
    assert layer_of("sim.cli") > layer_of("sim.workflows") > layer_of("sim.experiment.runner")


def test_imports_point_down(graph):
    upward = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in graph.items()
        for target in targets
        if layer_of(target) > layer_of(module)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycle_leaves_the_model(graph):
    # Tarjan's strongly connected components over sim modules
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(component)

    for v in graph:
        if v not in index:
            visit(v)
    leaving = [sorted(c) for c in cycles if not all(m.startswith("sim.model.") for m in c)]
    assert not leaving, leaving


def test_cli_holds_no_logic():
    lines = (PACKAGE / "cli.py").read_text().splitlines()
    assert len(lines) <= 300, f"sim/cli.py has {len(lines)} lines; a shell parses, calls a workflow and prints"


def test_the_app_holds_no_simulation_or_analysis():
    """The web app's pages show what workflows, jobs and the outputs' readers return: they import
    no model, no experiment runner and no statistics of their own."""
    for path in (PACKAGE / "app").rglob("*.py"):
        source = path.read_text()
        for banned in ("sim.model", "sim.experiment.runner", "sim.experiment.stats", "sim.experiment.benefit",
                       "scipy", "simpy", "import numpy"):
            assert banned not in source, f"{path.relative_to(PACKAGE.parent)} uses {banned}"


@pytest.mark.parametrize("args, choices", [
    (["--help"], []),
    (["run", "--help"], ["<local|dask>"]),
    (["plan", "--help"], ["<beds|reablement>", "<target|cost>"]),
])
def test_help_imports_no_science_and_shows_allowed_values(args, choices):
    """`icsim ... --help` answers without importing the model's libraries (typer itself needs
    pydantic), and allowed values survive in the help text."""
    probe = (
        f"import sys; sys.argv = ['icsim', *{args!r}]\n"
        "from sim.cli import main\n"
        "code = 0\n"
        "try:\n    main()\nexcept SystemExit as stop:\n    code = stop.code or 0\n"
        "heavy = sorted(m for m in ('numpy', 'pandas', 'scipy', 'simpy', 'matplotlib', 'dask') if m in sys.modules)\n"
        "print('EXIT', code, 'HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    for choice in choices:
        assert choice in out, out
    assert out.strip().splitlines()[-1] == "EXIT 0 HEAVY []", out  # the help was shown (exit 0), not a usage error
