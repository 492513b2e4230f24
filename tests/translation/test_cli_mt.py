"""A tiny encoder-decoder trains and translates through the CLI for both target scripts:
mt prepare -> mt train -> mt evaluate -> mt translate, on fixture corpora in a temporary root."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import sacrebleu
from click.testing import CliRunner
from ruamel.yaml import YAML

from xlt.cli import cli
from xlt.translation.data import script_fraction

REPO = Path(__file__).resolve().parents[2]

EN = ["the house is big", "the water is cold", "i am going home", "the child is playing",
      "the book is new", "the sky is blue", "we eat rice", "she reads a book",
      "the city is large", "he drinks water", "the tree is tall", "they go to school"]
HI = ["घर बड़ा है", "पानी ठंडा है", "मैं घर जा रहा हूँ", "बच्चा खेल रहा है", "किताब नई है", "आसमान नीला है",
      "हम चावल खाते हैं", "वह किताब पढ़ती है", "शहर बड़ा है", "वह पानी पीता है", "पेड़ लंबा है", "वे स्कूल जाते हैं"]
TE = ["ఇల్లు పెద్దది", "నీరు చల్లగా ఉంది", "నేను ఇంటికి వెళ్తున్నాను", "పిల్లవాడు ఆడుతున్నాడు", "పుస్తకం కొత్తది",
      "ఆకాశం నీలంగా ఉంది", "మేము అన్నం తింటాము", "ఆమె పుస్తకం చదువుతుంది", "నగరం పెద్దది", "అతను నీరు తాగుతాడు",
      "చెట్టు పొడవుగా ఉంది", "వాళ్ళు బడికి వెళ్తారు"]


def _lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(l + "\n" for l in lines), encoding="utf-8")


def write_raw(root: Path) -> None:
    """Fixture corpora under root/data/raw: train on the first 10 pairs (OPUS-100 dev for Hindi,
    Mann Ki Baat for Telugu), FLORES-200 dev and devtest one unseen sentence each, twice."""
    raw = root / "data/raw"
    _lines(raw / "opus100-en-hi/opus.en-hi-dev.en", EN[:10])
    _lines(raw / "opus100-en-hi/opus.en-hi-dev.hi", HI[:10])
    _lines(raw / "telugu-parallel/mkb.en", EN[:10])
    _lines(raw / "telugu-parallel/mkb.te", TE[:10])
    for split, sl in (("dev", slice(10, 11)), ("devtest", slice(11, 12))):
        _lines(raw / f"flores200/{split}/eng_Latn.{split}", EN[sl] * 2)
        _lines(raw / f"flores200/{split}/hin_Deva.{split}", HI[sl] * 2)
        _lines(raw / f"flores200/{split}/tel_Telu.{split}", TE[sl] * 2)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("mt")
    write_raw(root)
    yaml = YAML()
    p = yaml.load((REPO / "params.yaml").read_text())
    p["run"]["translation"] = {"models": ["tiny-random"], "langs": ["hi", "te"], "generators": []}
    data = p["translation"]["data"]
    data["hi"] = {"train": {"opus100-dev": None}, "dev": "flores200-dev", "test": {"flores200-devtest": None}}
    data["te"] = {"train": {"mann-ki-baat": None}, "dev": "flores200-dev", "test": {"flores200-devtest": None}}
    p["translation"]["models"]["tiny-random"].update(epochs=60, learning_rate=5e-3, batch_size=16)
    p["translation"]["decode"].update(num_beams=2, max_new_tokens=12, batch_size=8)
    params = root / "params.yaml"
    with params.open("w") as f:
        yaml.dump(p, f)
    return root, params


def run(root: Path, params: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--root", str(root), "--params", str(params), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("lang", ["hi", "te"])
@pytest.mark.slow
def test_tiny_model_trains_and_translates_into_the_target_script(root, lang):
    root, params = root
    out = run(root, params, "mt", "prepare", "--lang", lang)
    assert "train 10 pairs" in out
    run(root, params, "mt", "train", "--model", "tiny-random", "--lang", lang)
    model_dir = root / f"models/tiny-random/translation/{lang}"
    info = json.loads((model_dir / "train_info.json").read_text())
    assert info["train_examples"] == 10 and info["config"]["init"] == "pretrained"
    assert info["pretrained"]["trim"]["kept"] < 20000         # trimmed: this pair's pieces + single characters
    assert info["train_loss"] < 6                             # it learnt something (ln(vocab) ~ 7 at start)
    assert not (root / "checkpoints/tiny-random/translation" / lang).exists()

    run(root, params, "mt", "evaluate", "--model", "tiny-random", "--lang", lang)
    metrics = json.loads((root / f"metrics/tiny-random/translation/{lang}.json").read_text())
    assert metrics["test_set"] == "flores200-devtest"
    assert metrics["signature"]["chrf"].startswith("nrefs:1|case:mixed|eff:yes|nc:6|nw:2")
    hyps = (root / f"predictions/tiny-random/translation/{lang}/flores200-devtest.txt").read_text().splitlines()
    assert len(hyps) == 2
    # The scores are those of the written hypotheses against this language's devtest references.
    refs = [{"hi": HI, "te": TE}[lang][11]] * 2
    assert metrics["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)
    assert metrics["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs], word_order=2).score)
    samples = (root / f"reports/samples/tiny-random/translation/{lang}.md").read_text()
    assert "EN: " + EN[11] in samples and "HYP: " in samples

    translated = run(root, params, "mt", "translate", "--model", "tiny-random", "--lang", lang,
                     "the house is big", "we eat rice").splitlines()
    assert len(translated) == 2
    assert script_fraction(" ".join(translated + hyps), lang) > 0.9, translated + hyps
