"""Integration: the real dvc.yaml on a copy of the repository, with the real data pulled
from the team remote (../shared/dvc-store) and a tiny params override.

It checks that `dvc repro` produces every expected metrics file, and that changing one
model's params reruns only that model's stages. Needs ../shared (as CI has); skipped
with a reason when it is absent.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from dvc_helpers import dvc, stages_run, tiny_repo_copy

pytestmark = pytest.mark.integration

MODELS = ["tiny-random", "tiny-random-b"]
TASKS = ["sentiment", "ner"]
LANGS = ["te"]


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory) -> Path:
    return tiny_repo_copy(tmp_path_factory.mktemp("repo") / "xlt", MODELS, TASKS, LANGS)


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
    ran = stages_run(out)
    # The report reruns when the new scores differ; nothing of the other model does.
    assert ran - {"report"} == ({f"train@tiny-random-b-sentiment-{lang}" for lang in LANGS}
                                | {f"evaluate@tiny-random-b-sentiment-{lang}" for lang in LANGS}), ran
