"""The demo translating with a fine-tuned generator (the family `auto` picks when it measures
best): a tiny Gemma 3 fine-tuned on the demo's fixture pairs for both targets, loaded beside the
tiny classifiers of conftest.py."""
from __future__ import annotations

import dataclasses

import pytest

from xlt import params as params_mod
from xlt.demo.analyzer import Analyzer, format_table
from xlt.demo.config import demo_config
from xlt.translation import generator as gen
from xlt.translation.data import script_fraction

from .conftest import EN_NEG, assert_int8_linears, train_tiny_generator


@pytest.fixture(scope="module")
def gen_analyzer(demo_root, tiny_gemma):
    root, params = demo_root
    train_tiny_generator(root, tiny_gemma, "tiny-gen", "data/translation")
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
    assert r["translations_cut"] == {"hi": False, "te": False}      # both stopped at their end of line
    # a budget of 2 new pieces cuts both translations, and the demo says so
    cfg = gen_analyzer.config
    gen_analyzer.translators.config = dataclasses.replace(cfg, generate=dataclasses.replace(cfg.generate, max_new_tokens=2))
    try:
        cut = gen_analyzer.analyze(EN_NEG)
    finally:
        gen_analyzer.translators.config = cfg
    assert cut["translations_cut"] == {"hi": True, "te": True}, cut["translations"]


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
