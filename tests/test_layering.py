"""DESIGN.md's "Who may import whom", enforced on every import of our packages — module-level,
function-level and `importlib.import_module("...")` with a literal name."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rasp", "interp")

# Wiring: only these load "the thing the user named" and put every package together.
WIRING = ("interp.cli", "interp.subjects", "interp.app")

# Known violations in code other work is moving; each says where it goes. Remove the entry
# when the move lands (the test then fails if the import comes back).
ALLOWED: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "interp.analysis.ablate"
    target: str  # the imported module, e.g. "rasp.compiler"
    line: int

    def __str__(self) -> str:
        path = self.module.replace(".", "/")
        return f"{path}.py:{self.line} imports {self.target}"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(path: Path) -> list[Import]:
    """Every import in `path` that names one of our packages."""
    module = module_name(path)
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module, path.name == "__init__.py")
            targets = [f"{base}.{a.name}" if _is_module(f"{base}.{a.name}") else base for a in node.names]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            targets = [node.args[0].value]
        for target in targets:
            if target.split(".")[0] in PACKAGES:
                found.append(Import(module, target, node.lineno))
    return found


@functools.cache
def all_imports() -> list[Import]:
    return [imp for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
            for imp in imports_of(path)]


def within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(importer: tuple[str, ...], allowed: tuple[str, ...] = (),
               forbidden: tuple[str, ...] = (), exempt: tuple[str, ...] = ()) -> list[str]:
    """Imports by modules under `importer` (not `exempt`) that leave `allowed` or enter `forbidden`."""
    bad = []
    for imp in all_imports():
        if not within(imp.module, *importer) or within(imp.module, *exempt):
            continue
        if (imp.module, imp.target) in ALLOWED:
            continue
        if (allowed and not within(imp.target, *allowed)) or within(imp.target, *forbidden):
            bad.append(str(imp))
    return bad


def test_the_import_scanner_sees_every_kind_of_import(tmp_path, monkeypatch):
    package = tmp_path / "interp" / "fake"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sibling.py").write_text("")
    (package / "mod.py").write_text(
        "import rasp.core\nfrom . import sibling\nfrom ..errors import InputError\n"
        "def f():\n    from interp.app import main\n    importlib.import_module('rasp.compiler')\n")
    (tmp_path / "interp" / "errors.py").write_text("")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    found = {(imp.target, imp.line) for imp in imports_of(package / "mod.py")}
    assert found == {("rasp.core", 1), ("interp.fake.sibling", 2), ("interp.errors", 3), ("interp.app", 5),
                     ("rasp.compiler", 6)}


def test_rasp_core_imports_nothing_of_ours():
    # rasp/limits.py included: the language must be usable without interp or the compiler.
    assert violations(("rasp",), allowed=("rasp",), forbidden=("rasp.compiler",),
                      exempt=("rasp.compiler",)) == []


def test_model_circuit_and_analysis_are_model_generic():
    assert violations(("interp.model", "interp.circuit", "interp.analysis"),
                      forbidden=("rasp", *WIRING, "interp.programs", "interp.tasks")) == []


def test_model_imports_only_errors_limits_and_the_component_vocabulary():
    # interp.circuit is the typed component vocabulary (Node, residual stages); it imports
    # only interp.errors at run time, so the model may name its components with it.
    assert violations(("interp.model",),
                      allowed=("interp.model", "interp.circuit", "interp.errors", "interp.limits")) == []


def test_component_vocabulary_is_a_leaf():
    # Type-only imports (under TYPE_CHECKING) of the model are allowed.
    assert violations(("interp.circuit",),
                      allowed=("interp.circuit", "interp.errors", "interp.model.config")) == []


def test_compiler_emits_models_and_circuits_only():
    # Its resource caps live in rasp/limits.py, so it needs nothing from interp.limits.
    assert violations(("rasp.compiler",),
                      allowed=("rasp", "interp.model", "interp.circuit", "interp.errors")) == []


def test_only_the_wiring_modules_import_the_wiring_modules():
    outside = ("rasp", "interp")
    assert violations(outside, forbidden=WIRING, exempt=WIRING) == []


def test_tasks_are_data_only():
    # Data only: no model, training or analysis. The RASP interpreter is allowed because
    # library-program tasks take their targets from it (one source of truth); the compiler is not,
    # except in the SIIT task, whose high-level model *is* the compiled program (its interchange
    # counterfactuals are computed by patching the compiled model; the interpreter has no hooks).
    assert violations(("interp.tasks",), allowed=("interp.tasks", "interp.errors", "interp.limits", "rasp"),
                      forbidden=("rasp.compiler",), exempt=("interp.tasks.siit_task",)) == []
    assert violations(("interp.tasks.siit_task",), allowed=("interp.tasks", "interp.errors", "rasp")) == []


def test_transformer_programs_emit_models_and_decompile_to_rasp():
    assert violations(("interp.programs",), forbidden=WIRING) == []


def test_training_trains_models_on_tasks():
    assert violations(("interp.training",), forbidden=("rasp", *WIRING)) == []


def test_evaluation_measures_models_without_the_training_loop():
    # A report reads a model and its task's data; importing interp.training would run its
    # package (the loop) and let training and evaluation import each other again.
    assert violations(("interp.evaluation",), forbidden=("interp.training", "rasp", *WIRING)) == []


def test_the_named_packages_exist():
    # A rule about a package that is gone (or renamed) passes vacuously; keep the names real.
    for name in ("interp.training", "interp.evaluation", "interp.programs", "interp.tasks",
                 "interp.baselines", "interp.model", "interp.analysis", "rasp.compiler"):
        assert _is_module(name), name


def test_baselines_read_task_data_only():
    assert violations(("interp.baselines",), allowed=("interp.baselines", "interp.tasks", "interp.errors",
                                                      "interp.limits")) == []
