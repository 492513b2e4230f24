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
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

from dvc_helpers import copy_repo, dvc, stages_run, tiny_repo_copy

pytestmark = pytest.mark.integration

MODELS = ["tiny-random", "tiny-random-b"]
TASKS = ["sentiment", "ner"]
LANGS = ["te"]


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory, prepared_repo) -> tuple[Path, str]:
    """The tiny pipeline reproduced once for this module: (the copy, what `dvc repro` printed).
    Read-only: a test that changes it works on a copy of its own (copy_repo), so each test
    passes alone and in any order."""
    repo = tiny_repo_copy(tmp_path_factory.mktemp("repo") / "xlt", MODELS, TASKS, LANGS, prepared=prepared_repo,
                          default_corpus=True)
    return repo, dvc(repo, "repro")


def _check_scores(m: dict, task: str, predictions: list[dict], n_test: int) -> None:
    """The metrics are those of the stage's own predictions (plots/confusion), on the whole test set."""
    assert m["n"] == n_test
    if task == "sentiment":    # one (actual, predicted) pair per sentence; macro averages over the classes
        gold, pred = [p["actual"] for p in predictions], [p["predicted"] for p in predictions]
        assert len(gold) == n_test
        p, r, f, _ = precision_recall_fscore_support(gold, pred, labels=sorted(m["per_class"]), average="macro",
                                                     zero_division=0)
        assert m["accuracy"] == pytest.approx(accuracy_score(gold, pred))
        assert (m["precision"], m["recall"], m["f1"]) == pytest.approx((p, r, f))
    else:                      # entity-level micro averages (seqeval): F1 is the harmonic mean of P and R
        p, r = m["precision"], m["recall"]
        assert m["f1"] == pytest.approx(2 * p * r / (p + r) if p + r else 0.0)
        # The entity types with gold entities are those of the gold tags scored (one row a word).
        assert {t for t, v in m["per_type"].items() if v["support"]} == \
            {row["actual"] for row in predictions if row["actual"] != "O"} != set()


def test_repro_writes_every_metrics_file(reproduced):
    repo_copy, out = reproduced
    for model in MODELS + ["baseline"]:
        for task in TASKS:
            for lang in LANGS:
                path = repo_copy / f"metrics/{model}/{task}/{lang}.json"
                assert path.exists(), f"missing {path}\n{out}"
                n_test = len((repo_copy / f"data/prepared/{task}/{lang}/test.jsonl").read_text().splitlines())
                predictions = json.loads((repo_copy / f"plots/confusion/{model}/{task}/{lang}.json").read_text())
                _check_scores(json.loads(path.read_text()), task, predictions, n_test)
    assert (repo_copy / "reports/report.md").exists()
    assert "tiny-random-b" in (repo_copy / "reports/report.md").read_text()
    # Nothing is left to do, and `dvc metrics show` reads the declared metrics.
    assert "up to date" in dvc(repo_copy, "status").lower()
    shown = dvc(repo_copy, "metrics", "show", "--json")
    assert "metrics/tiny-random/ner/te.json" in shown


def test_changing_one_model_reruns_only_its_stages(reproduced, tmp_path):
    repo_copy = copy_repo(reproduced[0], tmp_path / "xlt")
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


def _set(repo: Path, keys: tuple, value) -> None:
    yaml = YAML()
    path = repo / "params.yaml"
    p = yaml.load(path.read_text())
    node = p
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    with path.open("w") as f:
        yaml.dump(p, f)


def test_changing_one_decoding_setting_reruns_only_the_translation_scoring(reproduced, tmp_path):
    # (c) of issue 12: the encoder-decoders' beam size is read by mt-evaluate alone.
    repo_copy = copy_repo(reproduced[0], tmp_path / "xlt")
    _set(repo_copy, ("translation", "decode", "num_beams"), 2)
    ran = stages_run(dvc(repo_copy, "repro"))
    assert ran - {"report"} == {"mt-evaluate@tiny-random-te"}, ran


def _encoder(repo: Path, model: str) -> str:
    """The content of the pretrained encoder directory (what DVC compares)."""
    from xlt import io
    return io.digest([repo / f"models/pretrained/{model}"])


def test_changing_ner_preprocessing_reruns_ner_and_the_shared_vocabulary(reproduced, tmp_path):
    # (b) of issue 12: dropping short NER sentences changes the NER data and, through the shared
    # trimmed vocabulary (encoders.<model>.trim_corpus reads every task's train and dev text),
    # the encoder every model starts from, but only where the pieces kept change: an encoder
    # directory that comes out byte-identical leaves the sentiment models up to date.
    repo_copy = copy_repo(reproduced[0], tmp_path / "xlt")
    before = {m: _encoder(repo_copy, m) for m in MODELS}
    _set(repo_copy, ("preprocess", "ner", "min_tokens"), 6)
    ran = stages_run(dvc(repo_copy, "repro"))
    ner = {f"{stage}@ner-{lang}" for stage in ("preprocess", "split", "baseline") for lang in LANGS}
    ner |= {f"{stage}@{m}-ner-{lang}" for stage in ("train", "evaluate") for m in MODELS for lang in LANGS}
    changed = {m for m in MODELS if _encoder(repo_copy, m) != before[m]}
    sentiment = {f"{stage}@{m}-sentiment-{lang}" for stage in ("train", "evaluate") for m in changed for lang in LANGS}
    assert ran - {"report"} == ner | {f"pretrained@{m}" for m in MODELS} | sentiment, (ran, changed)
    # nothing of translation: mt-train trims its own vocabulary from its own pairs
    assert not {s for s in ran if s.startswith("mt-")}, ran
