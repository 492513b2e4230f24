"""A tiny generator (random weights, tiny Gemma 3 config) goes through the CLI for both target
scripts: mt gen-pretrained (from a local directory) -> mt gen-train -> mt evaluate -> mt translate,
on fixture corpora in a temporary root; the metrics carry the non-translation checks."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import sacrebleu
from click.testing import CliRunner
from ruamel.yaml import YAML

from xlt.cli import cli
from xlt.translation.data import script_fraction
from xlt.translation.generator import prompt

from test_cli_mt import EN, HI, TE, write_raw   # noqa: E402 (tests/translation is on sys.path)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def root(tmp_path_factory, tiny_gemma) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("gen-cli")
    write_raw(root)
    tiny_gemma(root / "source", [prompt(en, "hi") + f" {hi}\n" + prompt(en, "te") + f" {te}"
                                 for en, hi, te in zip(EN, HI, TE)])
    yaml = YAML()
    p = yaml.load((REPO / "params.yaml").read_text())
    p["run"]["translation"] = {"models": [], "langs": ["hi", "te"], "generators": ["tiny-gen"]}
    data = p["translation"]["data"]
    data["hi"] = {"train": {"opus100-dev": None}, "dev": "flores200-dev", "test": {"flores200-devtest": None}}
    data["te"] = {"train": {"mann-ki-baat": None}, "dev": "flores200-dev", "test": {"flores200-devtest": None}}
    p["translation"]["generators"] = {"tiny-gen": {
        "source": str(root / "source"), "sha256": None, "learning_rate": 3e-3, "batch_size": 5, "epochs": 30,
        "max_train_samples": None, "max_eval_samples": None, "max_length": 64, "eval_steps": 20, "bf16": False,
        "save_dtype": "float16", "seed": 0, "langs": {}}}
    p["translation"]["generate"].update(max_new_tokens=16, batch_size=4, bf16=False)
    params = root / "params.yaml"
    with params.open("w") as f:
        yaml.dump(p, f)
    run(root, params, "mt", "gen-pretrained", "--model", "tiny-gen")     # shared by both languages
    return root, params


def run(root: Path, params: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--root", str(root), "--params", str(params), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["hi", "te"])
def test_tiny_generator_trains_and_translates_into_the_target_script(root, lang):
    root, params = root
    run(root, params, "mt", "prepare", "--lang", lang)
    out = run(root, params, "mt", "gen-train", "--model", "tiny-gen", "--lang", lang)
    assert "60 steps on 10 pairs" in out
    info = json.loads((root / f"models/tiny-gen/translation/{lang}/train_info.json").read_text())
    assert info["dev"]["loss"] < info["dev_curve"][0]["loss"]                # it learnt

    run(root, params, "mt", "evaluate", "--model", "tiny-gen", "--lang", lang)
    metrics = json.loads((root / f"metrics/tiny-gen/translation/{lang}.json").read_text())
    facts = json.loads((root / f"metrics/tiny-gen/translation/{lang}.run.json").read_text())
    assert facts["train"]["init"] == "pretrained generator" and facts["train"]["steps"] == 60
    assert "train" not in metrics and set(facts["translate_seconds"]) == set(metrics["test_sets"])
    assert metrics["dev"]["sentences"] == 2
    assert metrics["in_script"] == 1.0                  # the trimmed output layer has only this script's pieces
    assert metrics["distinct"] == 0.5                   # FLORES fixture: one sentence twice -> one hypothesis twice
    hyps = (root / f"predictions/tiny-gen/translation/{lang}/flores200-devtest.txt").read_text().splitlines()
    refs = [{"hi": HI, "te": TE}[lang][11]] * 2         # the devtest references (write_raw)
    assert metrics["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)
    assert metrics["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs], word_order=2).score)
    translated = run(root, params, "mt", "translate", "--model", "tiny-gen", "--lang", lang,
                     "the house is big", "we eat rice").splitlines()
    assert len(translated) == 2 and len(hyps) == 2
    assert script_fraction(" ".join(translated + hyps), lang) > 0.9, translated + hyps

    # a file: each line's fields kept, its line number and translation beside them, the same translations
    (root / "in.jsonl").write_text('{"text": "the house is big", "id": "a"}\n\n{"text": "we eat rice"}\n')
    run(root, params, "mt", "translate", "--model", "tiny-gen", "--lang", lang,
        "--input", str(root / "in.jsonl"), "--out", str(root / f"out-{lang}.jsonl"))
    rows = [json.loads(x) for x in (root / f"out-{lang}.jsonl").read_text().splitlines()]
    assert [(r["line"], r.get("id"), r["translation"]) for r in rows] == [(1, "a", translated[0]), (3, None, translated[1])]
