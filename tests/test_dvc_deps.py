"""Every stage in dvc.yaml depends on exactly the code it runs (issue 12, item 2).

A stage's command is `xlt <command> …`; the code it runs is the function behind that command
plus everything that function imports, transitively, inside src/xlt (found with `ast`, so an
import inside a function counts as well as one at the top of a module). The test asserts both
directions for every rendered stage:
  - nothing missing: each module the command can import is covered by a `deps` entry (the file,
    or a directory holding it), so editing it makes the stage stale;
  - nothing extra: each src/ entry in `deps` is something the command imports (for a directory:
    every module in it), so editing an unrelated module reruns nothing.
cli.py itself is the one exception: it only parses arguments and hands them to the stage's
function (one short function per command), and listing it would make every CLI edit rerun all
ninety stages. Which *params* a stage reads is proved by tests/test_pipeline.py, which changes
settings on a built copy and checks which stages rerun.
"""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PKG = SRC / "xlt"
EXEMPT = {"src/xlt/cli.py", "src/xlt/__init__.py"}


def module_file(name: str) -> Path | None:
    """src/xlt/a/b.py or src/xlt/a/b/__init__.py for 'xlt.a.b'; None outside the package."""
    if name != "xlt" and not name.startswith("xlt."):
        return None
    base = SRC.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def package_chain(name: str) -> list[Path]:
    """Importing xlt.a.b runs xlt/__init__.py, xlt/a/__init__.py and xlt/a/b.py."""
    parts = name.split(".")
    found = [module_file(".".join(parts[:i])) for i in range(1, len(parts) + 1)]
    return [f for f in found if f is not None]


def imports_of(nodes) -> set[Path]:
    """The src/xlt files the import statements among NODES (walked recursively) load."""
    out: set[Path] = set()
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Import):
                for alias in sub.names:
                    out.update(package_chain(alias.name))
            elif isinstance(sub, ast.ImportFrom) and sub.module and sub.level == 0:
                out.update(package_chain(sub.module))
                for alias in sub.names:          # `from xlt import io` imports the module xlt.io
                    child = module_file(f"{sub.module}.{alias.name}")
                    if child is not None:
                        out.add(child)
    return out


@lru_cache(maxsize=None)
def closure(start: frozenset[Path]) -> frozenset[Path]:
    seen: set[Path] = set()
    todo = list(start)
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        todo.extend(imports_of([ast.parse(f.read_text(), str(f))]) - seen)
    return frozenset(seen)


def command_functions() -> dict[tuple[str, ...], ast.FunctionDef]:
    """('train',) / ('mt', 'train') / … -> the cli.py function behind that command."""
    tree = ast.parse((PKG / "cli.py").read_text())
    out = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for dec in node.decorator_list:
            call = dec if isinstance(dec, ast.Call) else None
            func = call.func if call else dec
            if isinstance(func, ast.Attribute) and func.attr == "command" and isinstance(func.value, ast.Name):
                group = func.value.id
                name = call.args[0].value if call and call.args else node.name
                out[(name,) if group == "cli" else (group, name)] = node
    return out


def code_of(cmd: str) -> frozenset[Path]:
    """Every src/xlt file the `xlt …` command CMD can import (cli.py's own top-level imports,
    the command function's imports and the helpers in cli.py it calls)."""
    words = cmd.split()
    assert words[0] == "xlt", cmd
    functions = command_functions()
    key = tuple(words[1:3]) if tuple(words[1:3]) in functions else (words[1],)
    tree = ast.parse((PKG / "cli.py").read_text())
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    helpers = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    body = [functions[key]]
    called = {c.func.id for c in ast.walk(functions[key])
              if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
    body += [helpers[name] for name in called if name in helpers and name != functions[key].name]
    return closure(frozenset(imports_of(top + body)))


@pytest.fixture(scope="module")
def stages():
    from dvc.repo import Repo
    with Repo(str(REPO)) as repo:
        # .dvc files (data/raw) are stages without a command
        return [(s.addressing, s.cmd, [str(Path(d.def_path)) for d in s.deps]) for s in repo.index.stages if s.cmd]


def rel(p: Path) -> str:
    return p.relative_to(REPO).as_posix()


def test_the_import_scan_sees_imports_inside_functions():
    # train.py imports its task modules inside functions: the scan must follow those too.
    found = {rel(f) for f in code_of("xlt train --model m --task sentiment --lang hi")}
    assert "src/xlt/train.py" in found and "src/xlt/tasks/__init__.py" in found
    assert "src/xlt/demo/analyzer.py" not in found


def test_every_stage_depends_on_exactly_the_code_it_runs(stages):
    problems = []
    for name, cmd, deps in stages:
        code = {rel(f) for f in code_of(cmd)} - EXEMPT
        src_deps = [d for d in deps if d.startswith("src/")]
        covered = set()
        for d in src_deps:
            path = REPO / d
            files = {rel(f) for f in path.rglob("*.py")} if path.is_dir() else {d}
            extra = sorted(files - code)
            if extra:
                problems.append(f"{name}: depends on {d} but never imports {', '.join(extra)}")
            covered |= files
        missing = sorted(code - covered)
        if missing:
            problems.append(f"{name}: imports {', '.join(missing)} without depending on it")
    assert not problems, "\n".join(problems)
