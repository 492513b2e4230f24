"""The analyzer on tiny models (conftest.py) and `xlt analyze` on the command line."""
from __future__ import annotations

import json
import shutil
import sys

import pytest
from click.testing import CliRunner

from xlt.cli import cli, main
from xlt.demo import speech
from xlt.demo.analyzer import best_translation_model, default_models, format_table, missing_models
from xlt.demo.text import InputError
from xlt.translation.data import script_fraction

from .conftest import EN_NEG, HI_POS, TE_NEU, TE_POS, TRANSLATION, assert_int8_linears


def test_english_sentence(analyzer):
    r = analyzer.analyze("  Sita works for Infosys in New Delhi. ")
    assert r["text"] == "Sita works for Infosys in New Delhi."
    assert (r["lang"], r["lang_name"], r["script"]) == ("en", "English", "Latin")
    assert [(e["text"], e["type"]) for e in r["entities"]] == [("Sita", "PER"), ("Infosys", "ORG"),
                                                               ("New Delhi", "LOC")]
    assert [t["text"] for t in r["tokens"]][-2:] == ["Delhi", "."]
    assert set(r["translations"]) == set(r["translations_cut"]) == {"hi", "te"}
    assert r["speech"] == {"lang": "hi", "text": r["translations"]["hi"], "what": "the Hindi translation"}
    assert set(r["timings_ms"]) == {"sentiment", "ner", "translation_hi", "translation_te", "total"}


def test_sentiment_probabilities(analyzer):
    r = analyzer.analyze(EN_NEG)
    assert r["sentiment"]["label"] == "negative"
    assert set(r["sentiment"]["probabilities"]) == {"negative", "positive"}
    assert sum(r["sentiment"]["probabilities"].values()) == pytest.approx(1, abs=1e-3)
    te = analyzer.analyze(TE_NEU)["sentiment"]                    # Telugu has three classes
    assert te["label"] == "neutral" and set(te["probabilities"]) == {"negative", "neutral", "positive"}


@pytest.mark.parametrize("lang", ["hi", "te"])
def test_each_target_language_has_its_own_model(analyzer, lang):
    en, tgt = TRANSLATION[lang][0]
    assert analyzer.analyze(en)["translations"][lang] == tgt          # learnt by heart
    for en, _ in TRANSLATION[lang][1:]:
        out = analyzer.analyze(en)["translations"][lang]
        assert script_fraction(out, lang) > 0.9, out


@pytest.mark.parametrize("sentence, lang, entities", [
    (HI_POS, "hi", [("रवि", "NEP"), ("दिल्ली", "NEL")]),
    (TE_POS, "te", [("రవి", "NEP"), ("హైదరాబాద్", "NEL")]),
])
def test_indic_sentence_is_not_translated_and_speaks_itself(analyzer, sentence, lang, entities):
    r = analyzer.analyze(sentence)
    assert r["lang"] == lang and r["translations"] == {}
    assert [(e["text"], e["type"]) for e in r["entities"]] == entities
    assert all(sentence[e["start"]:e["end"]] == e["text"] for e in r["entities"])
    assert r["speech"]["lang"] == lang and r["speech"]["text"] == sentence
    assert "original" in r["speech"]["what"]


@pytest.mark.parametrize("bad", ["", "   ", "你好世界", "x" * 401, "Ravi\x07"])
def test_bad_input(analyzer, bad):
    with pytest.raises(InputError):
        analyzer.analyze(bad)


def test_format_table(analyzer):
    table = format_table(analyzer.analyze("Sita works for Infosys in New Delhi."))
    assert "[Sita]PER works for [Infosys]ORG in [New Delhi]LOC." in table
    assert "English (en, Latin script)" in table
    assert "Hindi (hi)" in table and "Telugu (te)" in table
    assert "translate English into Hindi and Telugu only" in format_table(analyzer.analyze(HI_POS))


def test_missing_models_name_the_dvc_targets(tmp_path, demo_root):
    root, _ = demo_root
    shutil.copytree(root / "models/tiny-random/sentiment", tmp_path / "models/tiny-random/sentiment")
    shutil.copytree(root / "models/tiny-random/ner", tmp_path / "models/tiny-random/ner")
    shutil.copytree(root / "models/tiny-random/translation/hi", tmp_path / "models/tiny-random/translation/hi")
    assert missing_models(tmp_path, "tiny-random", "tiny-random") == [
        "models/tiny-random/translation/te (`dvc repro mt-train@tiny-random-te`)"]
    missing = missing_models(tmp_path, "me5-small", "me5-small")
    assert "models/me5-small/sentiment/hi (`dvc repro train@me5-small-sentiment-hi`)" in missing
    assert "models/me5-small/translation/hi (`dvc repro mt-train@me5-small-hi`)" in missing
    assert len(missing) == 8


def test_default_models(tmp_path):
    p = {"run": {"models": ["me5-small", "mbert"]}, "translation": {"models": {"me5-small": {}, "other": {}}},
         "demo": {"translation_model": "me5-small"}}
    assert default_models(p, None, None) == ("me5-small", "me5-small")
    assert default_models(p, "me5-small", "other") == ("me5-small", "other")
    with pytest.raises(ValueError, match="no translation model 'mbert'.*--mt-model"):
        default_models(p, "mbert", "mbert")


def _mt_metrics(root, name, hi, te):
    for lang, chrf in (("hi", hi), ("te", te)):
        path = root / f"metrics/{name}/translation/{lang}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"chrf": 99.0, "dev": {"chrf": chrf}}))


def test_auto_picks_the_best_measured_dev_chrf(tmp_path):
    p = {"run": {"models": ["me5-small"], "translation": {"models": ["me5-small", "me5-small-random"],
                                                          "generators": ["gemma"]}},
         "translation": {"models": {"me5-small": {}, "me5-small-random": {}}, "generators": {"gemma": {}}},
         "demo": {"translation_model": "auto"}}
    with pytest.raises(ValueError, match=r"no translation model has its dev chrF\+\+ measured"):
        default_models(p, None, None, tmp_path)
    _mt_metrics(tmp_path, "me5-small", 15.0, 12.0)
    _mt_metrics(tmp_path, "me5-small-random", 9.0, 8.0)
    assert best_translation_model(p, tmp_path) == ("me5-small", 13.5)
    _mt_metrics(tmp_path, "gemma", 20.0, 10.0)                  # the mean decides: 15.0 > 13.5
    assert default_models(p, None, None, tmp_path) == ("me5-small", "gemma")
    (tmp_path / "metrics/gemma/translation/te.json").unlink()      # measured for one language only: skipped
    assert default_models(p, None, None, tmp_path) == ("me5-small", "me5-small")
    p["demo"]["translation_model"] = "me5-small-random"          # a name overrides the measurement
    assert default_models(p, None, None, tmp_path)[1] == "me5-small-random"


# ------------------------------------------------------------------ xlt analyze
def _invoke(demo_root, *args):
    root, params = demo_root
    return CliRunner().invoke(cli, ["--root", str(root), "--params", str(params), "analyze", *args])


def test_cli_table_and_speech(demo_root, tmp_path):
    wav = tmp_path / "out.wav"
    result = _invoke(demo_root, "Ravi lives in Delhi.", "--speak", str(wav))
    assert result.exit_code == 0, result.output
    assert "[Ravi]PER lives in [Delhi]LOC." in result.output
    assert TRANSLATION["hi"][0][1] in result.output and TRANSLATION["te"][0][1] in result.output
    assert "of the Hindi translation" in result.output
    stats = speech.wav_stats(wav.read_bytes())
    assert stats["seconds"] > 0.5 and stats["peak"] > 0.1


def test_cli_json_speaks_the_original_for_telugu(demo_root, tmp_path):
    wav = tmp_path / "te.wav"
    result = _invoke(demo_root, TE_POS, "--json", "--speak", str(wav))
    assert result.exit_code == 0, result.output
    r = json.loads(result.output)
    assert r["lang"] == "te" and r["sentiment"]["label"] == "positive"
    assert r["speech"]["path"] == str(wav) and r["speech"]["seconds"] > 0.5 and r["speech"]["lang"] == "te"


def _main(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["xlt", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    return exit_.value.code, capsys.readouterr().err.strip()


@pytest.mark.parametrize("bad, message", [
    ("  ", "the text is empty"),
    ("こんにちは", "unsupported script: Hiragana"),
    ("a\x1bb", "control character U+001B"),
])
def test_cli_bad_input_is_one_line_before_models_load(monkeypatch, capsys, tmp_path, bad, message):
    code, err = _main(monkeypatch, capsys, "--root", str(tmp_path), "analyze", bad)   # no models there
    assert code == 2 and err.startswith("xlt: error: ") and message in err and "\n" not in err


def test_cli_missing_models_is_one_line(monkeypatch, capsys, tmp_path):
    code, err = _main(monkeypatch, capsys, "--root", str(tmp_path), "analyze", "Ravi lives in Delhi.")
    assert code == 2 and "\n" not in err
    assert "no translation model has its dev chrF++ measured" in err        # auto: nothing measured yet
    code, err = _main(monkeypatch, capsys, "--root", str(tmp_path), "analyze", "--mt-model", "me5-small",
                      "Ravi lives in Delhi.")
    assert code == 2 and "\n" not in err
    assert "`dvc repro train@me5-small-sentiment-en`" in err and "`dvc repro mt-train@me5-small-te`" in err


def test_inference_is_serialised(analyzer, monkeypatch):
    """Concurrent analyze() calls never run the models at the same time (the lock)."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor
    active, peak, guard = 0, 0, threading.Lock()
    original = analyzer._sentiment

    def counting(lang, text):
        nonlocal active, peak
        with guard:
            active += 1
            peak = max(peak, active)
        time.sleep(0.02)
        try:
            return original(lang, text)
        finally:
            with guard:
                active -= 1
    monkeypatch.setattr(analyzer, "_sentiment", counting)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda t: analyzer.analyze(t, translate=False), [HI_POS, TE_POS] * 4))
    assert peak == 1 and all(r["sentiment"]["label"] == "positive" for r in results)


def test_translation_settings_from_the_demo_section(analyzer, demo_root):
    """Two threads and bf16 weights translate as the default (one after the other, fp32) does;
    the budget relative to the source caps the output."""
    import dataclasses
    import threading

    import torch

    from xlt.demo.analyzer import Analyzer
    root, _ = demo_root
    assert not analyzer.config.parallel_translation and analyzer.config.translation_dtype == "float32"
    assert all(m.dtype == torch.float32 for m, _ in analyzer.translation.values())
    other = Analyzer(root, "tiny-random", "tiny-random",
                     dataclasses.replace(analyzer.config, parallel_translation=True, translation_dtype="bfloat16"))
    assert all(m.dtype == torch.bfloat16 for m, _ in other.translation.values())
    threads = {}

    class Recording:            # the translators, noting which thread ran each translation
        def __init__(self, translators):
            self.translators = translators

        def __call__(self, lang, text):
            threads[lang] = threading.current_thread().name
            return self.translators(lang, text)

        def __getattr__(self, name):
            return getattr(self.translators, name)
    other.translators = Recording(other.translators)
    for lang in ("hi", "te"):
        en, tgt = TRANSLATION[lang][0]
        assert analyzer.analyze(en)["translations"][lang] == tgt == other.analyze(en)["translations"][lang]
    assert set(threads) == {"hi", "te"} and all(name.startswith("xlt-translate") for name in threads.values())

    # int8: every Linear of the encoder-decoder becomes a dynamically quantised one, and it still
    # translates the fixture pairs it learnt.
    quantised = Analyzer(root, "tiny-random", "tiny-random", dataclasses.replace(analyzer.config, translation_dtype="int8"))
    for lang, (model, _) in quantised.translation.items():
        assert_int8_linears(model)
        en, tgt = TRANSLATION[lang][0]
        assert quantised.analyze(en)["translations"][lang] == tgt

    short = Analyzer(root, "tiny-random", "tiny-random", dataclasses.replace(analyzer.config, max_new_tokens_ratio=0.01))
    for lang in ("hi", "te"):
        en, tgt = TRANSLATION[lang][0]
        _, tok = short.translation[lang]
        r = short.analyze(en)
        out = r["translations"][lang]
        assert tgt.startswith(out) and len(tok(out, add_special_tokens=False)["input_ids"]) <= 8 < len(
            tok(tgt, add_special_tokens=False)["input_ids"])
        # the demo says so: the translation stopped at its budget, not at its end
        assert r["translations_cut"][lang] is True and analyzer.analyze(en)["translations_cut"][lang] is False
        assert "stopped at the decoding budget" in format_table(r) and "stopped at" not in format_table(analyzer.analyze(en))
