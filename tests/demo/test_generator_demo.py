"""The demo translating with a fine-tuned generator (the family `auto` picks when it measures
best): a tiny Gemma 3 fine-tuned on the demo's fixture pairs for both targets, loaded beside the
tiny classifiers of conftest.py."""
from __future__ import annotations

import dataclasses

import pytest

from xlt import io
from xlt import params as params_mod
from xlt.demo.analyzer import Analyzer, format_table
from xlt.demo.config import demo_config
from xlt.translation import generator as gen
from xlt.translation.data import script_fraction

from .conftest import EN_NEG, TRANSLATION, assert_int8_linears

CFG = gen.GenConfig(source="(set below)", sha256=None, learning_rate=3e-3, batch_size=3, epochs=40,
                    max_train_samples=None, max_eval_samples=None, max_length=64, eval_steps=20, bf16=False,
                    save_dtype="float16", seed=0)


@pytest.fixture(scope="module")
def gen_analyzer(demo_root, tiny_gemma):
    root, params = demo_root
    texts = [gen.prompt(en, lang) + f" {tgt}" for lang, pairs in TRANSLATION.items() for en, tgt in pairs]
    tiny_gemma(root / "gen-source", texts)
    cfg = dataclasses.replace(CFG, source=str(root / "gen-source"))
    gen.materialise("tiny-gen", cfg, root / "models/pretrained/tiny-gen")
    for lang, pairs in TRANSLATION.items():
        data = root / f"data/translation/{lang}"
        io.write_jsonl(data / "train.jsonl", [{"en": en, "tgt": t} for en, t in pairs])
        io.write_jsonl(data / "dev.jsonl", [{"en": en, "tgt": t} for en, t in pairs])
        gen.train("tiny-gen", lang, cfg, root / "models/pretrained/tiny-gen", data,
                  root / f"models/tiny-gen/translation/{lang}", root / f"plots/gen-{lang}.csv")
    return Analyzer(root, "tiny-random", "tiny-gen", demo_config(params_mod.load(params)))


@pytest.mark.slow
def test_the_demo_translates_with_a_generator_and_says_so(gen_analyzer):
    assert gen_analyzer.mt_family == "generator"
    r = gen_analyzer.analyze(EN_NEG)
    assert r["translation_model"] == "tiny-gen" and r["translation_family"] == "generator"
    for lang in ("hi", "te"):
        assert "\n" not in r["translations"][lang]
        assert script_fraction(r["translations"][lang], lang) > 0.9, r["translations"]
    assert "tiny-gen (generator, translation; torch, float32)" in format_table(r)
    assert r["speech"]["text"] == r["translations"]["hi"]


@pytest.mark.slow
def test_int8_generator_quantises_the_layers_and_keeps_the_trimmed_head(gen_analyzer, demo_root):
    """demo.translation_dtype: int8 on a generator: its Linear layers are quantised, the trimmed
    output layer stays float32 (int8 logits lost 2.5 chrF++ on Gemma), and it still writes the
    target script."""
    root, params = demo_root
    cfg = dataclasses.replace(demo_config(params_mod.load(params)), translation_dtype="int8")
    quantised = Analyzer(root, "tiny-random", "tiny-gen", cfg)
    for lang, (model, _) in quantised.translation.items():
        assert_int8_linears(model)
        assert isinstance(model.lm_head, gen.TrimmedHead) and model.lm_head.weight.dtype.is_floating_point
        out = quantised.analyze(EN_NEG)["translations"][lang]
        assert script_fraction(out, lang) > 0.9, out
