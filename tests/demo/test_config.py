"""params.yaml's `demo` section: translation.decode with the demo's overrides, validated."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from xlt import params as params_mod
from xlt.demo.config import demo_config
from xlt.params import ParamsError

BASE = {"translation": {"decode": {"num_beams": 4, "max_new_tokens": 96, "bf16": True}}}


def test_overrides_translation_decode():
    cfg = demo_config({**BASE, "demo": {"decode": {"num_beams": 1, "bf16": "false"},
                                        "translation_dtype": "bfloat16", "parallel_translation": "true",
                                        "max_new_tokens_ratio": "2"}})
    assert (cfg.decode.num_beams, cfg.decode.bf16, cfg.decode.max_new_tokens) == (1, False, 96)
    assert (cfg.translation_dtype, cfg.parallel_translation, cfg.max_new_tokens_ratio) == ("bfloat16", True, 2.0)


def test_no_demo_section_decodes_as_the_evaluation():
    cfg = demo_config(BASE)
    assert cfg.decode.num_beams == 4 and cfg.decode.bf16
    assert (cfg.translation_dtype, cfg.parallel_translation, cfg.max_new_tokens_ratio) == ("float32", False, None)


@pytest.mark.parametrize("dtype, autocast", [("float32", True), ("bfloat16", False), ("int8", False)])
def test_cast_weights_turn_autocast_off(dtype, autocast):
    """bf16 autocast is for float32 weights; with int8 it would run numerics never evaluated."""
    cfg = demo_config({"translation": {"decode": {"bf16": True}, "generate": {"bf16": True}},
                       "demo": {"translation_dtype": dtype}})
    assert (cfg.translation_dtype, cfg.decode.bf16, cfg.generate.bf16) == (dtype, autocast, autocast)


@pytest.mark.parametrize("ratio, pieces, expected", [(None, 30, 96), (2.0, 5, 18), (2.0, 40, 88), (2.0, 60, 96),
                                                     (1.5, 3, 12)])
def test_budget_relative_to_the_source(ratio, pieces, expected):
    cfg = demo_config({**BASE, "demo": {"max_new_tokens_ratio": ratio}})
    assert cfg.max_new_tokens(pieces) == expected


@pytest.mark.parametrize("demo, message", [
    ({"beams": 1}, "demo.beams: unknown key (known: translation_model, decode, generate, translation_dtype, "
                   "parallel_translation, max_new_tokens_ratio)"),
    ({"decode": {"num_beam": 1}}, "demo.decode.num_beam: unknown key (did you mean 'num_beams'?)"),
    ({"decode": {"num_beams": "many"}}, "demo.decode.num_beams: expected an integer >= 1, got 'many'"),
    ({"decode": {"num_beams": -1}}, "demo.decode.num_beams: expected an integer >= 1, got -1"),
    ({"decode": {"num_beams": 1.5}}, "demo.decode.num_beams: expected an integer >= 1, got 1.5"),
    ({"decode": [1]}, "demo.decode: expected a mapping, got [1]"),
    ({"generate": {"max_new_token": 9}}, "demo.generate.max_new_token: unknown key (did you mean 'max_new_tokens'?)"),
    ({"translation_dtype": "float16"}, "demo.translation_dtype: unknown value 'float16' (did you mean 'bfloat16'?)"),
    ({"parallel_translation": "yes"}, "demo.parallel_translation: expected true or false, got 'yes'"),
    ({"max_new_tokens_ratio": 0}, "demo.max_new_tokens_ratio: expected a number > 0 or null, got 0"),
    ({"max_new_tokens_ratio": "x"}, "demo.max_new_tokens_ratio: expected a number > 0 or null, got 'x'"),
])
def test_bad_values_name_the_key(demo, message):
    with pytest.raises(ParamsError) as e:
        demo_config({**BASE, "demo": demo})
    assert str(e.value) == f"params.yaml: {message}"


def test_the_base_decode_is_checked_too():
    with pytest.raises(ParamsError) as e:
        demo_config({"translation": {"decode": {"num_beams": 0}}, "demo": {"decode": {"num_beams": 1}}})
    assert str(e.value) == "params.yaml: translation.decode.num_beams: expected an integer >= 1, got 0"


def test_generate_overrides_and_bf16_auto(monkeypatch):
    from xlt import speed
    monkeypatch.setattr(speed, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    cfg = demo_config({"translation": {"generate": {"bf16": "auto", "max_new_tokens": 64}},
                       "demo": {"generate": {"max_new_tokens": "32"}, "decode": None}})
    assert (cfg.generate.bf16, cfg.generate.max_new_tokens, cfg.decode.num_beams) == (True, 32, 4)


def test_xlt_check_reports_demo_problems():
    p = params_mod.read(Path(__file__).parents[2] / "params.yaml")
    assert params_mod.problems(p) == []
    bad = copy.deepcopy(p)
    bad["demo"]["translation_dtype"] = "int4"
    bad["demo"]["decode"]["num_beams"] = 0
    assert params_mod.problems(bad) == [
        "demo.decode.num_beams: expected an integer >= 1, got 0",
        "demo.translation_dtype: unknown value 'int4' (did you mean 'int8'?)"]


def test_the_translation_model_is_auto_or_a_declared_one():
    p = params_mod.read(Path(__file__).parents[2] / "params.yaml")
    for ok in ("auto", "me5-small", "gemma3-270m"):
        assert params_mod.problems({**p, "demo": {**p["demo"], "translation_model": ok}}) == []
    bad = {**p, "demo": {**p["demo"], "translation_model": "gemma3-270"}}
    assert params_mod.problems(bad) == [
        "demo.translation_model: 'gemma3-270' is neither 'auto' nor a section under translation.models or "
        "translation.generators (did you mean 'gemma3-270m'?)"]
