"""The package's import rules (the module map of msanalysis/__init__.py), checked on the source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "msanalysis"

#: Layer of each top-level module or subpackage, lowest first (as in the package docstring).
LAYERS = {
    "errors": 0,
    "registry": 0,
    "losses": 1,
    "symbolic": 2,
    "paper": 2,
    "numeric": 2,
    "simulate": 2,
    "sweep": 2,
    "ledger": 2,
    "proofs": 2,
    "training": 3,
    "attacks": 3,
    "gradient_check": 3,
    "evaluation": 4,
    "figures": 4,
    "commands": 5,
    "cli": 5,
    "__main__": 5,
}


def _imports(path: Path) -> set[str]:
    """The top-level msanalysis modules that ``path`` imports (absolute or relative)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    package = parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[: len(package) - node.level + 1])
            target = base + (node.module.split(".") if node.module else [])
            if target:
                found.add(target[0])
            else:  # "from . import x" at the package root
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("msanalysis."):
            found.add(node.module.split(".")[1])
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "__init__.py")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_import_only_their_layer_or_lower_ones(path):
    own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    higher = {m for m in _imports(path) if LAYERS[m] > LAYERS[own]}
    assert not higher, f"{own} (layer {LAYERS[own]}) imports {higher} from a higher layer"


def test_every_module_has_a_layer():
    names = {p.name.removesuffix(".py") for p in PACKAGE.iterdir() if not p.name.startswith("_")}
    names -= {"data", "__pycache__"}
    assert names <= set(LAYERS), names - set(LAYERS)


def test_the_import_scan_sees_relative_and_absolute_imports():
    """Else the layer test above could pass by seeing nothing."""
    assert {"attacks", "training"} <= _imports(PACKAGE / "evaluation" / "audit.py")
    assert "cli" in _imports(PACKAGE / "__main__.py")


def test_the_torch_free_layers_do_not_import_torch():
    """``verify`` and ``proofs`` (layers 0-2) must run where torch is not installed."""
    torch_free = sorted(m for m, layer in LAYERS.items() if layer <= 2)
    code = f"import sys; import {', '.join('msanalysis.' + m for m in torch_free)}; "
    code += "print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
