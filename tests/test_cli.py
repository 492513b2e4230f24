"""A tiny randomly initialised model trained end to end through the CLI, on small
fixture data in a temporary repository root: pretrained -> train -> evaluate -> report."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from xlt import io
from xlt.cli import cli

REPO = Path(__file__).resolve().parents[1]

SENTIMENT = {
    "positive": ["this phone is really good and fast", "यह फ़ोन बहुत अच्छा है", "ఈ సినిమా చాలా బాగుంది నిజంగా"],
    "negative": ["this phone is really bad and slow", "यह फ़ोन बहुत खराब है", "ఈ సినిమా చాలా చెడ్డది నిజంగా"],
}
NER = [
    (["Ravi", "lives", "in", "Delhi", "."], ["B-NEP", "O", "O", "B-NEL", "O"]),
    (["రవి", "హైదరాబాద్", "లో", "ఉన్నాడు"], ["B-NEP", "B-NEL", "O", "O"]),
    (["सीता", "मुंबई", "गई"], ["B-NEP", "B-NEL", "O"]),
]


def _write_fixture_data(root: Path) -> None:
    sent = [{"text": t, "label": lab} for lab, texts in SENTIMENT.items() for t in texts] * 6
    ner = [{"tokens": t, "tags": g} for t, g in NER] * 8
    for split in ("train", "dev", "test"):
        io.write_jsonl(root / f"data/prepared/sentiment/te/{split}.jsonl", sent)
        io.write_jsonl(root / f"data/prepared/ner/te/{split}.jsonl", ner)
        for task in ("sentiment", "ner"):
            io.write_json(root / f"data/prepared/{task}/te/report.json",
                          {"dataset": "fixture", "task": task, "lang": "te", "repairs": {}, "cleaning": {},
                           "split": {"mode": "official", "sizes": {"train": 1, "dev": 1, "test": 1}}})


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("root")
    _write_fixture_data(root)
    shutil.copytree(REPO / "references", root / "references")
    yaml = YAML()
    p = yaml.load((REPO / "params.yaml").read_text())
    p["run"].update(models=["tiny-random"], tasks=["sentiment", "ner"], langs=["te"])
    p["transfer"]["tasks"] = []
    for task in ("sentiment", "ner"):
        p["models"]["tiny-random"][task].update(epochs=30, learning_rate=3e-3, max_train_samples=None)
    params = root / "params.yaml"
    with params.open("w") as f:
        yaml.dump(p, f)
    return root, params


def run(root: Path, params: Path, *args: str):
    result = CliRunner().invoke(cli, ["--root", str(root), "--params", str(params), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.slow
def test_tiny_model_end_to_end(tiny_root):
    root, params = tiny_root
    run(root, params, "pretrained", "--model", "tiny-random")
    info = io.read_json(root / "models/pretrained/tiny-random/xlt_pretrained.json")
    assert info["trim"]["kept"] < info["trim"]["original_vocab"]
    for task in ("sentiment", "ner"):
        run(root, params, "train", "--model", "tiny-random", "--task", task, "--lang", "te")
        model_dir = root / f"models/tiny-random/{task}/te"
        assert (model_dir / "config.json").exists() and (model_dir / "train_info.json").exists()
        # the DVCLive run log: loss against optimizer steps, the seconds in its summary, not in the model
        log = root / f"dvclive/tiny-random/{task}/te"
        assert (log / "plots/metrics/loss.tsv").read_text().startswith("step\tloss\n")
        assert io.read_json(log / "metrics.json")["train_seconds"] > 0
        assert "train_seconds" not in io.read_json(model_dir / "train_info.json")
        assert not list(root.rglob("checkpoint-*"))     # the Trainer's checkpoints are not left behind
        run(root, params, "evaluate", "--model", "tiny-random", "--task", task, "--lang", "te")
        m = json.loads((root / f"metrics/tiny-random/{task}/te.json").read_text())
        # The fixture is trivially learnable (test = train): a model that trained fits it.
        headline = "accuracy" if task == "sentiment" else "f1"
        assert m[headline] > 0.6, m
        assert (root / f"plots/confusion/tiny-random/{task}/te.json").exists()
    run(root, params, "report")
    report = (root / "reports/report.md").read_text()
    assert "tiny-random" in report and "not run" in report  # baselines were not run here


def test_unknown_model_is_a_clear_error(tiny_root):
    root, params = tiny_root
    result = CliRunner().invoke(cli, ["--root", str(root), "--params", str(params), "train", "--model", "nope",
                                      "--task", "ner", "--lang", "te"])
    assert result.exit_code != 0
    assert "models.nope" in str(result.exception)


def test_missing_pretrained_encoder_names_the_dvc_target(tmp_path):
    _write_fixture_data(tmp_path)
    result = CliRunner().invoke(cli, ["--root", str(tmp_path), "--params", str(REPO / "params.yaml"), "train",
                                      "--model", "me5-small", "--task", "ner", "--lang", "te"])
    assert result.exit_code != 0
    assert "dvc repro pretrained@me5-small" in str(result.exception)


def test_pretrained_asks_for_the_parallel_pairs_its_corpus_names(tmp_path):
    """trim_corpus: [..., parallel] without data/translation/<lang>/train.jsonl: a clear error
    before any conversion, naming the file and the stage that writes it."""
    _write_fixture_data(tmp_path)
    yaml = YAML()
    p = yaml.load((REPO / "params.yaml").read_text())
    p["run"].update(models=["tiny-random"], tasks=["sentiment", "ner"], langs=["te"])
    p["transfer"]["tasks"] = []
    p["run"]["translation"].update(models=["tiny-random"], langs=["te"], generators=[])
    p["encoders"]["tiny-random"]["trim_corpus"] = ["train", "dev", "parallel"]
    with (tmp_path / "params.yaml").open("w") as f:
        yaml.dump(p, f)
    result = CliRunner().invoke(cli, ["--root", str(tmp_path), "--params", str(tmp_path / "params.yaml"),
                                      "pretrained", "--model", "tiny-random"])
    assert result.exit_code == 2, result.output
    assert "data/translation/te/train.jsonl: not found" in result.output
    assert "dvc repro mt-prepare@te" in result.output
    assert not (tmp_path / "models").exists()


def test_mt_translate_takes_sentences_or_a_file_and_reads_the_file_before_any_model(tmp_path):
    def invoke(*args):
        return CliRunner().invoke(cli, ["--root", str(tmp_path), "--params", str(REPO / "params.yaml"),
                                        "mt", "translate", "--model", "gemma3-270m", "--lang", "hi", *args])
    bad = tmp_path / "in.jsonl"
    bad.write_text('{"text": "a fine day"}\n{"text": \n', encoding="utf-8")
    both = invoke("hello there", "--input", str(bad))
    assert both.exit_code == 2 and "one of the two" in both.output
    neither = invoke()
    assert neither.exit_code == 2 and "one of the two" in neither.output
    assert invoke("hello there", "--out", str(tmp_path / "o.jsonl")).exit_code == 2
    # no model under tmp_path: the bad line is what the user hears about first
    result = invoke("--input", str(bad))
    assert result.exit_code != 0 and "in.jsonl:2: not JSON" in str(result.exception)
