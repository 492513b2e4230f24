"""Integration: one tiny curve point end to end through `dvc repro` on a copy of the repository
(English and Telugu sentiment, the tiny random encoder, one seed, one draw at k = 10, the
multilingual model on capped data), and a changed few-shot budget reruns only the few-shot point and the report."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from dvc_helpers import copy_repo, dvc, tiny_repo_copy

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory, prepared_repo) -> tuple[Path, str]:
    """The tiny transfer pipeline reproduced once for this module: (the copy, what `dvc repro`
    printed). Read-only: a test that changes it works on a copy of its own (copy_repo)."""
    repo = tiny_repo_copy(tmp_path_factory.mktemp("repo") / "xlt", ["tiny-random"], ["sentiment"], ["en", "te"],
                          transfer=["sentiment"], prepared=prepared_repo, translation=False)
    return repo, dvc(repo, "repro")


def test_repro_writes_the_transfer_metrics_and_report(reproduced):
    repo_copy, out = reproduced
    zs = json.loads((repo_copy / "metrics/transfer/zeroshot/sentiment/seed1.json").read_text())
    assert set(zs) >= {"en", "te", "selection", "vocabulary"}
    assert zs["te"]["n"] == len((repo_copy / "data/transfer/sentiment/te/test.jsonl").read_text().splitlines())
    assert zs["vocabulary"]["te"]["unk_trimmed"] <= zs["vocabulary"]["te"]["unk_full"]
    few = json.loads((repo_copy / "metrics/transfer/fewshot/sentiment/te/k10.json").read_text())
    for arm in ("sequential", "target", "joint", "embed-lr"):
        assert len(few[arm]["runs"]) == 1, (arm, out)
    assert few["k_sentences"] == 10
    # The run's seconds sit beside the scores, not in them (metrics diff shows only scores).
    assert "seconds" not in json.dumps(few)
    facts = json.loads((repo_copy / "metrics/transfer/fewshot/sentiment/te/k10.run.json").read_text())
    assert set(facts["seconds"]) == {"sequential", "target", "joint", "embed-lr"}
    assert len(facts["runs"]) == 4 and all(r["seconds"] >= 0 for r in facts["runs"])
    multi = json.loads((repo_copy / "metrics/transfer/multilingual/sentiment.json").read_text())
    assert multi["examples"]["train"]["en"] == 64 and set(multi) >= {"en", "te"}
    assert multi["te"]["n"] == zs["te"]["n"]
    assert "seconds" not in json.dumps(multi)          # beside it, as for the few-shot points
    multi_facts = json.loads((repo_copy / "metrics/transfer/multilingual/sentiment.run.json").read_text())
    assert multi_facts["train_seconds"] >= 0 and multi_facts["train_examples"] == sum(multi["examples"]["train"].values())
    cross = {src: json.loads((repo_copy / f"metrics/transfer/matrix/sentiment/{src}.json").read_text())
             for src in ("en", "te")}
    assert set(cross["en"]) == {"source", "model", "te"} and set(cross["te"]) == {"source", "model", "en"}
    assert cross["en"]["te"]["n"] == zs["te"]["n"]
    report = (repo_copy / "reports/transfer/sentiment.md").read_text()
    assert "Zero-shot" in report and "Transfer gap" in report and "One multilingual model" in report
    assert "## Language matrix" in report and "| Telugu | " in report.split("## Language matrix")[1]
    assert (repo_copy / "reports/transfer/sentiment.png").stat().st_size > 1000
    curves = repo_copy / "plots/transfer/curves/sentiment/te"
    assert [r["k"] for r in json.loads((curves / "sequential.json").read_text())] == [0, 10]
    assert [r["k"] for r in json.loads((curves / "target.json").read_text())] == [10]
    assert "up to date" in dvc(repo_copy, "status").lower()
    assert "metrics/transfer/fewshot/sentiment/te/k10.json" in dvc(repo_copy, "metrics", "show", "--json")


def test_changing_one_budget_reruns_only_its_point(reproduced, tmp_path):
    repo_copy = copy_repo(reproduced[0], tmp_path / "xlt")
    yaml = YAML()
    path = repo_copy / "params.yaml"
    p = yaml.load(path.read_text())
    p["transfer"]["fewshot"]["points"]["10"]["epochs"] = 3
    p["transfer"]["fewshot"]["points"]["100"]["epochs"] = 4     # not in ks: nothing depends on it
    with path.open("w") as f:
        yaml.dump(p, f)
    status = json.loads(dvc(repo_copy, "status", "--json"))
    assert set(status) == {"transfer-fewshot@sentiment-te-10", "transfer-report@sentiment"}, status
