"""Integration: the real dvc.yaml on a copy of the repository, with the real data pulled
from the team remote (../shared/dvc-store) and a tiny params override.

It checks that `dvc repro` produces every expected metrics file, and that changing one
model's params reruns only that model's stages. Needs ../shared (as CI has); skipped
with a reason when it is absent.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[1]
SHARED_STORE = REPO.parent / "shared" / "dvc-store"

pytestmark = pytest.mark.integration

MODELS = ["tiny-random", "tiny-random-b"]
TASKS = ["sentiment", "ner"]
LANGS = ["te"]


def dvc(cwd: Path, *args: str) -> str:
    exe = Path(sys.executable).with_name("dvc")
    proc = subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout + proc.stderr


def tiny_params(src: Path, dst: Path) -> None:
    yaml = YAML()
    p = yaml.load(src.read_text())
    p["run"]["models"] = MODELS
    p["run"]["tasks"] = TASKS
    p["run"]["langs"] = LANGS
    p["encoders"]["tiny-random-b"] = dict(p["encoders"]["tiny-random"])
    p["models"]["tiny-random-b"] = json.loads(json.dumps(p["models"]["tiny-random"]))
    for task in TASKS:
        p["baselines"][task]["max_train_samples"] = 200
    p["baselines"]["ner"]["max_iterations"] = 5
    with dst.open("w") as f:
        yaml.dump(p, f)


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory) -> Path:
    if not SHARED_STORE.exists():
        pytest.skip(f"{SHARED_STORE} not found: the team DVC remote is needed to pull the raw data")
    dst = tmp_path_factory.mktemp("repo") / "xlt"
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        if rel.startswith(("metrics/", "plots/", "reports/")) or rel == "dvc.lock":
            continue   # a fresh pipeline: no results of the real run
        if (REPO / rel).is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, dst / rel)
    subprocess.run(["git", "init", "-q"], cwd=dst, check=True)
    # The copy lives elsewhere, so point the remote at the store by absolute path.
    dvc(dst, "remote", "modify", "--local", "team", "url", str(SHARED_STORE))
    dvc(dst, "pull", "-q", "-R", "data/raw")
    tiny_params(REPO / "params.yaml", dst / "params.yaml")
    return dst


def test_repro_writes_every_metrics_file(repo_copy):
    out = dvc(repo_copy, "repro")
    for model in MODELS + ["baseline"]:
        for task in TASKS:
            for lang in LANGS:
                path = repo_copy / f"metrics/{model}/{task}/{lang}.json"
                assert path.exists(), f"missing {path}\n{out}"
                m = json.loads(path.read_text())
                keys = ["accuracy", "precision", "recall", "f1"] if task == "sentiment" else ["precision", "recall", "f1"]
                for k in keys:
                    assert 0.0 <= m[k] <= 1.0, (path, k, m[k])
                if task == "ner":
                    assert m["per_type"], path
    assert (repo_copy / "reports/report.md").exists()
    assert "tiny-random-b" in (repo_copy / "reports/report.md").read_text()
    # Nothing is left to do, and `dvc metrics show` reads the declared metrics.
    assert "up to date" in dvc(repo_copy, "status").lower()
    shown = dvc(repo_copy, "metrics", "show", "--json")
    assert "metrics/tiny-random/ner/te.json" in shown


def test_changing_one_model_reruns_only_its_stages(repo_copy):
    yaml = YAML()
    params_path = repo_copy / "params.yaml"
    p = yaml.load(params_path.read_text())
    p["models"]["tiny-random-b"]["sentiment"]["learning_rate"] = 5.0e-4
    with params_path.open("w") as f:
        yaml.dump(p, f)
    status = json.loads(dvc(repo_copy, "status", "--json"))
    changed = set(status)
    assert changed == {f"train@tiny-random-b-sentiment-{lang}" for lang in LANGS}, changed
    out = dvc(repo_copy, "repro")
    ran = {line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage")}
    # The report reruns when the new scores differ; nothing of the other model does.
    assert ran - {"report"} == ({f"train@tiny-random-b-sentiment-{lang}" for lang in LANGS}
                                | {f"evaluate@tiny-random-b-sentiment-{lang}" for lang in LANGS}), ran
