"""The llama.cpp translation runtime (xlt.demo.llamacpp): a tiny fine-tuned Gemma 3 exported to
GGUF computes the PyTorch model's logits and greedy translations, the demo uses it and says so,
and what it cannot run stops with one clear error.

The export's structure is checked with the gguf package alone; running it needs llama-cpp-python
(the `fast` extra, which CI installs): those tests skip, saying so, where it is not installed."""
from __future__ import annotations

import dataclasses
import random
import sys

import numpy as np
import pytest
import torch

from xlt import io
from xlt import params as params_mod
from xlt.demo import llamacpp
from xlt.demo.analyzer import GGUF_CACHE, Analyzer, format_table
from xlt.demo.config import demo_config
from xlt.translation import generator as gen
from xlt.translation.data import script_fraction

from .conftest import EN_NEG, GEN_CFG, TRANSLATION, train_tiny_generator

NAME = "tiny-gen-gguf"
UNSEEN = "A sentence it never saw, with words like Tokyo and 1,234."


def needs_llama_cpp():
    return pytest.importorskip("llama_cpp", reason="llama-cpp-python (the `fast` extra) is not installed")


@pytest.fixture(scope="module")
def tiny_gen(demo_root, tiny_gemma):
    """Both targets' tiny generators, fine-tuned by heart on the demo's pairs. query_pre_attn_scalar
    = head_dim, as in Gemma 3 270M (the default 256 is not what llama.cpp's graph computes)."""
    root, _ = demo_root
    train_tiny_generator(root, tiny_gemma, NAME, f"data/translation-{NAME}", query_pre_attn_scalar=16)
    return root


def test_ngram_ban_is_transformers_rule():
    """The tokens banned at each step are those transformers' no_repeat_ngram_size bans."""
    from transformers.generation.logits_process import NoRepeatNGramLogitsProcessor
    rng = random.Random(0)
    for n in (1, 2, 3, 4):
        proc = NoRepeatNGramLogitsProcessor(n)
        for _ in range(50):
            seq = [rng.randrange(5) for _ in range(rng.randrange(1, 20))]
            scores = proc(torch.tensor([seq]), torch.zeros(1, 5))[0]
            assert llamacpp.banned_ngram_tokens(seq, n) == {i for i in range(5) if scores[i] == -float("inf")}, (n, seq)
    assert llamacpp.banned_ngram_tokens([1, 2, 3, 1, 2], 0) == set()


def test_missing_package_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    with pytest.raises(llamacpp.LlamaCppError, match=r"pip install -e '\.\[fast\]'"):
        llamacpp._require_llama_cpp()


def test_demo_config_rejects_unknown_runtime_and_weights(demo_root):
    _, params = demo_root
    cfg = demo_config(params_mod.load(params))
    with pytest.raises(ValueError, match="translation runtime 'onnx'"):
        dataclasses.replace(cfg, translation_runtime="onnx")
    with pytest.raises(ValueError, match="GGUF weights 'q4'"):
        dataclasses.replace(cfg, gguf_weights="q4")


@pytest.mark.slow
def test_export_writes_the_kept_vocabulary_and_gemma_norms(tiny_gen, tmp_path):
    gguf = pytest.importorskip("gguf", reason="the `fast` extra (gguf, llama-cpp-python) is not installed")
    d = tiny_gen / f"models/{NAME}/translation/hi"
    info = llamacpp.export(d, tmp_path / "m.gguf", "f32")
    model, tok = gen.load(d)
    keep = model.lm_head.keep.tolist()
    reader = gguf.GGUFReader(str(tmp_path / "m.gguf"))
    vocab = [int(reader.get_field("xlt.vocab_ids").parts[i][0]) for i in reader.get_field("xlt.vocab_ids").data]
    assert vocab == sorted(set(keep) | {tok.bos_token_id, tok.eos_token_id, tok.unk_token_id, tok.pad_token_id})
    assert info["vocab"] == len(vocab) < len(tok) and info["keep"] == len(keep)
    tensors = {t.name: np.asarray(t.data) for t in reader.tensors}
    out = tensors["output.weight"].reshape(len(vocab), -1)
    rows = {full: j for j, full in enumerate(keep)}
    for j, full in enumerate(vocab):      # the trimmed head's rows; zero rows for control pieces it lacks
        expected = model.lm_head.weight[rows[full]].detach().numpy() if full in rows else np.zeros(out.shape[1])
        np.testing.assert_array_equal(out[j], expected)
    np.testing.assert_array_equal(tensors["token_embd.weight"].reshape(len(vocab), -1),
                                  model.model.embed_tokens.weight[vocab].detach().numpy())
    # Gemma's RMSNorm multiplies by (1 + weight): stored as 1 + weight, as llama.cpp's converter does.
    np.testing.assert_allclose(tensors["blk.0.attn_norm.weight"],
                               model.model.layers[0].input_layernorm.weight.detach().numpy() + 1, rtol=0, atol=0)
    pattern = [bool(v) for v in reader.get_field("gemma3.attention.sliding_window_pattern").contents()]
    assert pattern == [t == "sliding_attention" for t in model.config.layer_types]


@pytest.mark.slow
def test_export_refuses_what_llama_cpp_would_compute_differently(tmp_path, tiny_gemma):
    """The default query_pre_attn_scalar (256) with head_dim 16: llama.cpp would scale queries by
    1/sqrt(16), PyTorch by 1/sqrt(256)."""
    tiny_gemma(tmp_path / "src", ["English: a\nHindi: ब"])
    cfg = dataclasses.replace(GEN_CFG, source=str(tmp_path / "src"), epochs=1)
    gen.materialise("x", cfg, tmp_path / "pre")
    data = tmp_path / "data"
    io.write_jsonl(data / "train.jsonl", [{"en": "a", "tgt": "ब"}] * 3)
    io.write_jsonl(data / "dev.jsonl", [{"en": "a", "tgt": "ब"}])
    gen.train("x", "hi", cfg, tmp_path / "pre", data, tmp_path / "m", tmp_path / "log")
    with pytest.raises(llamacpp.LlamaCppError, match="query_pre_attn_scalar 256 != head_dim 16"):
        llamacpp.export(tmp_path / "m", tmp_path / "m.gguf")
    assert not (tmp_path / "m.gguf").exists()


@pytest.mark.slow
@pytest.mark.parametrize("weights", ["f32", "q8_0"])
def test_llama_cpp_computes_what_pytorch_computes(tiny_gen, tmp_path, weights):
    """Same last-position logits over the kept pieces (f32: float rounding; q8_0: 8-bit weights),
    and the same greedy translations, on trained and unseen sentences."""
    needs_llama_cpp()
    for lang in ("hi", "te"):
        d = tiny_gen / f"models/{NAME}/translation/{lang}"
        model, tok = gen.load(d)
        fast = llamacpp.Translator(d, lang, tmp_path / "cache", weights, threads=1)
        ids = tok(gen.prompt(EN_NEG, lang))["input_ids"]
        with torch.inference_mode():
            ref = model(torch.tensor([ids])).logits[0, -1].numpy()
        fast._lc.llama_memory_clear(fast._lc.llama_get_memory(fast._ctx), True)
        fast._decode_embeddings(fast.embed[ids] * fast.scale)
        got = fast._logits()
        kept = [fast.local[k] for k in model.lm_head.keep.tolist()]
        tol = 2e-3 if weights == "f32" else 5e-2
        assert np.abs(got[kept] - ref[fast.vocab_ids[kept]]).max() < tol * np.abs(ref[fast.vocab_ids[kept]]).max()
        decode = gen.GenDecode(max_new_tokens=40, no_repeat_ngram_size=4, batch_size=1)
        for s in [en for en, _ in TRANSLATION[lang]] + [UNSEEN]:
            assert fast.translate(s, 40, 4) == gen.translate(model, tok, [s], lang, decode)[0], (lang, weights, s)
        fast.close()


@pytest.mark.slow
def test_export_is_cached_by_the_model_bytes(tiny_gen, tmp_path):
    d = tiny_gen / f"models/{NAME}/translation/te"
    first = llamacpp.cached_export(d, tmp_path, "f16")
    stamp = first.stat().st_mtime_ns
    assert llamacpp.cached_export(d, tmp_path, "f16") == first and first.stat().st_mtime_ns == stamp
    copy = tmp_path / "copy"
    import shutil
    shutil.copytree(d, copy)
    info = io.read_json(copy / "train_info.json")
    io.write_json(copy / "train_info.json", {**info, "note": "changed"})
    # The copy's shared tensors point at the pretrained directory relative to the original.
    manifest = io.read_json(copy / "xlt_model.json")
    for ref in manifest["shared"].values():
        ref["file"] = str((d / ref["file"]).resolve())
    io.write_json(copy / "xlt_model.json", manifest)
    assert llamacpp.cached_export(copy, tmp_path, "f16") != first


@pytest.mark.slow
def test_the_demo_translates_under_llama_cpp_and_says_so(tiny_gen, demo_root):
    needs_llama_cpp()
    root, params = demo_root
    cfg = dataclasses.replace(demo_config(params_mod.load(params)), translation_runtime="llama.cpp")
    a = Analyzer(root, "tiny-random", NAME, cfg)
    assert not a.translation and set(a.fast) == {"hi", "te"}
    r = a.analyze(EN_NEG)
    assert r["translation_runtime"] == "llama.cpp, q8_0" and "llama.cpp, q8_0" in format_table(r)
    torch_cfg = dataclasses.replace(cfg, translation_runtime="torch")
    reference = Analyzer(root, "tiny-random", NAME, torch_cfg).analyze(EN_NEG)
    assert r["translations"] == reference["translations"]
    assert r["translations_cut"] == reference["translations_cut"]
    cut = dataclasses.replace(cfg, generate=dataclasses.replace(cfg.generate, max_new_tokens=2))
    assert Analyzer(root, "tiny-random", NAME, cut).analyze(EN_NEG)["translations_cut"] == {"hi": True, "te": True}
    for lang in ("hi", "te"):
        assert script_fraction(r["translations"][lang], lang) > 0.9, r["translations"]
    assert list((root / GGUF_CACHE).glob("*-q8_0.gguf"))


@pytest.mark.slow
def test_llama_cpp_runtime_refuses_an_encoder_decoder(demo_root):
    root, params = demo_root
    cfg = dataclasses.replace(demo_config(params_mod.load(params)), translation_runtime="llama.cpp")
    with pytest.raises(ValueError, match="runs fine-tuned generators only; tiny-random is an encoder-decoder"):
        Analyzer(root, "tiny-random", "tiny-random", cfg)


@pytest.mark.slow
def test_auto_runtime_is_llama_cpp_for_a_generator_torch_for_an_encoder_decoder(tiny_gen, demo_root):
    needs_llama_cpp()
    root, params = demo_root
    cfg = dataclasses.replace(demo_config(params_mod.load(params)), translation_runtime="auto")
    assert Analyzer(root, "tiny-random", NAME, cfg).runtime == "llama.cpp, q8_0"
    encdec = Analyzer(root, "tiny-random", "tiny-random", cfg)
    assert encdec.runtime == "torch, float32" and set(encdec.translation) == {"hi", "te"} and not encdec.fast
    # demo.translation_dtype int8 asks for torch: auto keeps it; naming llama.cpp with it is an error.
    int8 = dataclasses.replace(cfg, translation_dtype="int8")
    assert Analyzer(root, "tiny-random", NAME, int8).runtime == "torch, int8"
    with pytest.raises(ValueError, match="translation_dtype int8 is for the torch runtime"):
        Analyzer(root, "tiny-random", NAME, dataclasses.replace(int8, translation_runtime="llama.cpp"))
