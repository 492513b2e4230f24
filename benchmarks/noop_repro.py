"""How long a no-op `dvc repro` takes (issue 13: at most 5 s), without building the pipeline first.

A no-op `dvc repro` reads dvc.yaml, dvc.lock and params.yaml, and checks every stage's dependencies
and outputs against the hashes the lock file records; it never reads an output's content (DVC
keeps each file's hash by inode, size and mtime). Its cost depends on the pipeline's shape (stages,
dependency and output entries, params parsed, files per output directory), not on what the
outputs hold. Building every output takes hours here (~5 h on the avx512_bf16 EPYC), so this
script measures the same shape in a scratch clone instead:

1. `git clone` of this repository at HEAD (or `--rev`) into a scratch directory (uncommitted changes
   are not in it);
2. the DVC-tracked inputs (`*.dvc`: the raw datasets) copied from this workspace, so run `dvc pull`
   first;
3. every output dvc.lock records that git does not hold, created as a mirror: the same file tree
   as in this workspace where it is built there (each file a few bytes), one placeholder where it
   is not (a directory with one file, or a file, as the lock records it);
4. `dvc commit --force`, which records those outputs and the present dependencies in the scratch
   dvc.lock, so that `dvc status` there says every stage is up to date (checked; the script stops if
   not);
5. `dvc repro` (and `dvc status`) timed there, several runs each, the median reported.

    python benchmarks/noop_repro.py                     # 7 runs each; result under benchmarks/results/
    python benchmarks/noop_repro.py --runs 3 --profile  # and where one run's time goes (cProfile)

The result names the CPU (model, family/model, the speed flags), the DVC version, the stage and
entry counts, and the command. This workspace is not touched.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]


def cpu() -> dict:
    """The model name, the family/model numbers (two AMD EPYCs of one name differ: Milan is family
    25 model 1, Genoa model 17) and the flags that decide this project's speed paths."""
    from xlt.speed import _cpuinfo, cpu_model, speed_flags      # xlt.speed's reader of /proc/cpuinfo
    info = {"model": cpu_model(), "cores": os.cpu_count(), "flags_seen": speed_flags(),
            "python": platform.python_version()}
    for line in _cpuinfo().split("\n\n")[0].splitlines():
        key, _, value = (part.strip() for part in line.partition(":"))
        if key in ("cpu family", "model"):
            info["family" if key == "cpu family" else "model_number"] = value
    return info


def bench_slug(cpu: dict) -> str:
    """bench.py's result naming (the CPU name and its widest speed flag), loaded from the file beside
    this one, so that the two kinds of EPYC do not overwrite each other's result here either."""
    spec = importlib.util.spec_from_file_location("bench", Path(__file__).with_name("bench.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench._slug(cpu)


def lock_outputs(lock: dict) -> dict[str, bool]:
    """{output path: is a directory} for every output of every stage in a parsed dvc.lock (a
    directory's md5 ends in '.dir')."""
    outs = {}
    for stage in lock.get("stages", {}).values():
        for out in stage.get("outs", []):
            outs[out["path"]] = str(out.get("md5", "")).endswith(".dir")
    return outs


def mirror_outputs(outputs: dict[str, bool], built: Path, scratch: Path) -> dict[str, int]:
    """Create in `scratch` every output it lacks: the file tree `built` has for it, each file a few
    bytes, or a placeholder where `built` lacks it too. Returns counts by kind."""
    counts = {"present": 0, "mirrored": 0, "placeholder": 0, "files": 0}
    for rel, is_dir in sorted(outputs.items()):
        dst, src = scratch / rel, built / rel
        if dst.exists():
            counts["present"] += 1           # tracked by git (metrics, plots, reports)
            continue
        if src.is_dir():
            kind, targets = "mirrored", [dst / f.relative_to(src) for f in src.rglob("*") if f.is_file()]
        elif src.is_file():
            kind, targets = "mirrored", [dst]
        else:
            kind, targets = "placeholder", [dst / "placeholder" if is_dir else dst]
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"{rel}\n")
        counts[kind] += 1
        counts["files"] += len(targets)
    return counts


def tracked_inputs(root: Path) -> list[Path]:
    """The paths the repository's .dvc files track (the raw datasets), relative to root."""
    yaml = YAML(typ="safe")
    paths = []
    for dvcfile in sorted(root.rglob("*.dvc")):
        if any(part in (".dvc", ".git", ".venv") for part in dvcfile.relative_to(root).parts):
            continue
        for out in (yaml.load(dvcfile.read_text()) or {}).get("outs", []):
            paths.append((dvcfile.parent / out["path"]).relative_to(root))
    return paths


def dvc(*args: str, cwd: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["dvc", *args], cwd=cwd, text=True, capture_output=True, **kw)


def timed(args: list[str], cwd: Path, runs: int) -> list[float]:
    seconds = []
    for i in range(runs):
        start = time.perf_counter()
        proc = dvc(*args, cwd=cwd)
        seconds.append(round(time.perf_counter() - start, 3))
        if proc.returncode:
            sys.exit(f"dvc {' '.join(args)} failed in {cwd}:\n{proc.stderr[-2000:]}")
        print(f"  dvc {' '.join(args)}  run {i + 1}/{runs}: {seconds[-1]:.2f} s", flush=True)
    return seconds


def summary(seconds: list[float]) -> dict:
    return {"median_s": round(statistics.median(seconds), 2), "min_s": min(seconds),
            "max_s": max(seconds), "runs_s": seconds}


def profile(cwd: Path) -> dict:
    """Where one no-op run's time goes, as cProfile sees it (its overhead inflates every part;
    read the shares, not the seconds)."""
    dump = cwd / ".noop.prof"
    dvc("repro", "-q", "--cprofile-dump", str(dump), cwd=cwd, check=True)
    stats = pstats.Stats(str(dump)).stats
    def cumulative(file_end: str, func: str) -> float:
        return sum(v[3] for (f, _, fn), v in stats.items() if f.endswith(file_end) and fn == func)
    total = cumulative("dvc/repo/reproduce.py", "reproduce")
    parts = {"reading params files (once per stage with params)": cumulative("dvc/dependency/param.py", "read_params"),
             "rewriting DVC's read/write lock (.dvc/tmp/rwlock)": cumulative("dvc/rwlock.py", "_edit_rwlock"),
             "collecting the stages (dvc.yaml, dvc.lock)": cumulative("dvc/repo/index.py", "from_repo"),
             "checking outputs' hashes": cumulative("dvc/output.py", "status")}
    return {"profiled_s": round(total, 2),
            "share": {k: round(v / total, 3) for k, v in parts.items()} if total else {}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="timed runs of each command (default 7)")
    ap.add_argument("--profile", action="store_true", help="also profile one run (cProfile shares)")
    ap.add_argument("--rev", default="HEAD", help="the commit whose pipeline to measure (default HEAD)")
    ap.add_argument("--keep", type=Path, help="build the scratch clone here and keep it")
    ap.add_argument("--out", type=Path, help="result JSON (default benchmarks/results/noop-repro-<cpu>.json)")
    a = ap.parse_args()
    if shutil.which("dvc") is None:
        sys.exit("dvc is not on PATH: activate the project's virtual environment")

    if a.keep and a.keep.exists():
        sys.exit(f"{a.keep} exists: give a new directory")

    tmp = None if a.keep else tempfile.TemporaryDirectory(prefix="xlt-noop-")
    scratch = a.keep or Path(tmp.name) / "xlt"
    try:
        head = subprocess.run(["git", "rev-parse", a.rev], cwd=ROOT, text=True, capture_output=True,
                              check=True).stdout.strip()
        print(f"cloning {ROOT} at {head[:10]} into {scratch}", flush=True)
        subprocess.run(["git", "clone", "-q", str(ROOT), str(scratch)], check=True)
        subprocess.run(["git", "checkout", "-q", head], cwd=scratch, check=True)
        inputs = tracked_inputs(scratch)
        missing = [str(p) for p in inputs if not (ROOT / p).exists()]
        if missing:
            sys.exit(f"the DVC-tracked inputs are not in this workspace ({', '.join(missing)}): run `dvc pull` first")
        if (ROOT / ".dvc" / "config.local").exists():
            shutil.copy2(ROOT / ".dvc" / "config.local", scratch / ".dvc" / "config.local")
        for rel in inputs:
            src, dst = ROOT / rel, scratch / rel
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dst)
        lock = YAML(typ="safe").load((scratch / "dvc.lock").read_text())
        counts = mirror_outputs(lock_outputs(lock), ROOT, scratch)
        print(f"outputs: {counts}; recording them with dvc commit --force", flush=True)
        start = time.perf_counter()
        dvc("commit", "--force", "-q", cwd=scratch, check=True)
        commit_s = time.perf_counter() - start
        status = dvc("status", "--json", cwd=scratch, check=True).stdout.strip()
        if json.loads(status or "{}"):
            sys.exit(f"the scratch pipeline is not up to date after dvc commit:\n{status[:2000]}")

        nodes = len(dvc("stage", "list", "--all", "--name-only", cwd=scratch, check=True).stdout.split())
        lock = YAML(typ="safe").load((scratch / "dvc.lock").read_text())
        stages = len(lock["stages"])
        entries = {k: sum(len(s.get(k, [])) for s in lock["stages"].values()) for k in ("deps", "outs")}
        entries["params_stages"] = sum(1 for s in lock["stages"].values() if s.get("params"))

        print("timing (every stage up to date):", flush=True)
        result = {
            "what": "no-op `dvc repro` (every stage up to date) on a clone of HEAD whose outputs are mirrors "
                    "recorded with dvc commit --force",
            "command": "python benchmarks/noop_repro.py " + " ".join(sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "commit": head,
            "cpu": cpu(),
            "dvc": dvc("--version", cwd=scratch).stdout.strip(),
            "stages": stages,
            "nodes": nodes,          # the stages and the .dvc files of the raw datasets
            "lock_entries": entries,
            "outputs": counts,
            "dvc_commit_s": round(commit_s, 1),
            "dvc_repro": summary(timed(["repro"], scratch, a.runs)),
            "dvc_status": summary(timed(["status"], scratch, a.runs)),
        }
        result["aim_s"] = 5
        result["aim_met"] = result["dvc_repro"]["median_s"] <= result["aim_s"]
        if a.profile:
            result["profile"] = profile(scratch)
    finally:
        if tmp is not None:
            tmp.cleanup()

    from xlt import io
    out = a.out or ROOT / "benchmarks" / "results" / f"noop-repro-{bench_slug(result['cpu'])}.json"
    io.write_json(out, result)
    r = result["dvc_repro"]
    print(f"no-op dvc repro: median {r['median_s']} s ({r['min_s']}-{r['max_s']}, {a.runs} runs), "
          f"dvc status {result['dvc_status']['median_s']} s; {stages} stages; aim 5 s: "
          f"{'met' if result['aim_met'] else 'not met'} -> {out}")


if __name__ == "__main__":
    main()
