"""trim_vocabulary: on the given texts the trimmed encoder gives the same pieces and the
same hidden states as the original."""
import json

import pytest
import torch

from xlt.encoders.trim import trim_vocabulary

SPECIALS = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
PIECES = [
    ("▁", -1.0), ("▁the", -2.0), ("▁cat", -3.0), ("▁sat", -3.0), ("▁on", -2.5), ("▁mat", -3.5),
    ("at", -4.0), ("▁c", -4.0), ("▁s", -4.0), ("▁m", -4.0), ("▁t", -4.0), ("he", -4.5),
    ("▁dog", -3.2), ("og", -5.0), ("▁नम", -3.0), ("स्ते", -3.5), ("▁भारत", -3.0),
    *[(c, -6.0 - i / 10) for i, c in enumerate("abcdefghijklmnoprstuvwxy")],
    *[(c, -6.0) for c in "नमसतेभार्"],
    # For test_unk_score_is_preserved: "qz" beats "q"+"z"; "☃" has no piece of its own.
    ("qz", -1.0), ("q", -9.0), ("z", -20.0), ("☃q", -20.0),
    ("zzzz", -60.0),   # the lowest score, used by no text: it fixes the <unk> score
]
VOCAB = SPECIALS + PIECES + [("<mask>", 0.0)]
TEXTS = ["the cat sat on the mat", "the  mat", "नमस्ते भारत", "qz", "☃qz", "the ☃ sat"]


def save_tiny_encoder(path, tokenizer, vocab_rows, seed=0):
    """A small random BERT and a tokenizer, saved as any transformers directory is.
    With tokenizer_class PreTrainedTokenizerFast, tokenizer.json runs verbatim (our
    post-processor and special ids, not ones transformers rebuilds)."""
    from transformers import BertConfig, BertModel

    path.mkdir()
    tokenizer.save(str(path / "tokenizer.json"))
    (path / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 64,
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
        "mask_token": "<mask>", "cls_token": "<s>", "sep_token": "</s>"}))
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=vocab_rows, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64,
                        pad_token_id=1)
    BertModel(config).save_pretrained(path)
    return path


def unigram_tokenizer(vocab):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace("  ", " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)])
    tok.add_special_tokens(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    return tok


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    # 3 rows more than the tokenizer has pieces, like multilingual-e5-small (250,037 vs 250,002)
    return save_tiny_encoder(tmp_path_factory.mktemp("tiny") / "full",
                             unigram_tokenizer(VOCAB), vocab_rows=len(VOCAB) + 3)


def load(path):
    from transformers import AutoModel, AutoTokenizer

    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()


def assert_lossless(original, trimmed_dir, texts, atol=1e-6):
    """Same pieces, same hidden states (padded batch; padding positions ignored).
    `original`: a directory, or an already loaded (tokenizer, model)."""
    tok_a, model_a = original if isinstance(original, tuple) else load(original)
    tok_b, model_b = load(trimmed_dir)
    hidden = []
    for tok, model in ((tok_a, model_a), (tok_b, model_b)):
        batch = tok(texts, padding=True, return_tensors="pt")
        assert (batch["input_ids"][batch["attention_mask"] == 0] == model.config.pad_token_id).all()
        with torch.no_grad():
            hidden.append((model(**batch).last_hidden_state, batch))
    for i, text in enumerate(texts):
        a = tok_a.convert_ids_to_tokens(hidden[0][1]["input_ids"][i])
        b = tok_b.convert_ids_to_tokens(hidden[1][1]["input_ids"][i])
        n = int(hidden[0][1]["attention_mask"][i].sum())
        assert a[:n] == b[:n] and n == int(hidden[1][1]["attention_mask"][i].sum()), text
        assert torch.allclose(hidden[0][0][i, :n], hidden[1][0][i, :n], atol=atol, rtol=0), text
    return (tok_a, model_a), (tok_b, model_b)


def test_lossless_on_the_texts(tiny, tmp_path):
    stats = trim_vocabulary(tiny, TEXTS, tmp_path / "trim")
    (tok_a, model_a), (tok_b, model_b) = assert_lossless(tiny, tmp_path / "trim", TEXTS)

    assert stats == {"original_vocab": len(VOCAB) + 3, "kept": len(tok_b), "texts": len(TEXTS)}
    assert model_b.config.vocab_size == len(tok_b) < len(VOCAB)
    for piece in ("▁cat", "▁नम", "☃q", "▁", "a", "zzzz", "<mask>"):    # used, chars, lowest, special
        assert piece in tok_b.get_vocab()
    for piece in ("▁dog", "og", "he", "at", "▁c"):                       # unused multi-char pieces
        assert piece not in tok_b.get_vocab()
    # Every kept row is the original row of the same piece.
    emb_a, emb_b = model_a.get_input_embeddings().weight, model_b.get_input_embeddings().weight
    vocab_a = tok_a.get_vocab()
    for piece, i in tok_b.get_vocab().items():
        assert torch.equal(emb_b[i], emb_a[vocab_a[piece]]), piece
    meta = json.loads((tmp_path / "trim" / "xlt_encoder.json").read_text())
    assert meta["trimmed"]["kept"] == stats["kept"]
    assert meta["parameters"] == sum(p.numel() for p in model_b.parameters())


def test_output_does_not_depend_on_where_it_is_built(tiny, tmp_path):
    """Trimming the same model again, from and into other folders, gives byte-identical files
    (so the pretrained stage's DVC hash is stable and training does not rerun for nothing)."""
    import shutil
    shutil.copytree(tiny, tmp_path / "elsewhere" / "full")
    trim_vocabulary(tiny, TEXTS, tmp_path / "a")
    trim_vocabulary(tmp_path / "elsewhere" / "full", TEXTS, tmp_path / "b")
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir()) and "xlt_encoder.json" in files
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_special_tokens_still_work(tiny, tmp_path):
    trim_vocabulary(tiny, TEXTS, tmp_path / "trim")
    from transformers import AutoTokenizer

    tok_a, tok_b = AutoTokenizer.from_pretrained(tiny), AutoTokenizer.from_pretrained(tmp_path / "trim")
    for name in ("bos", "eos", "unk", "pad", "mask", "cls", "sep"):
        token = getattr(tok_a, name + "_token")
        assert getattr(tok_b, name + "_token") == token
        assert tok_b.convert_ids_to_tokens(getattr(tok_b, name + "_token_id")) == token
    # Pair template and explicit special tokens in the text.
    pair = tok_b("the cat", "on the mat")["input_ids"]
    assert tok_b.convert_ids_to_tokens(pair) == \
        tok_a.convert_ids_to_tokens(tok_a("the cat", "on the mat")["input_ids"])
    assert tok_b.convert_ids_to_tokens(pair)[:1] + tok_b.convert_ids_to_tokens(pair)[-1:] == ["<s>", "</s>"]
    masked = tok_b("the <mask> sat")["input_ids"]
    assert tok_b.mask_token_id in masked
    # Unseen text in a kept script splits into kept single characters, not <unk>.
    unseen = tok_b("the dog sat")["input_ids"]
    assert tok_b.unk_token_id not in unseen
    assert tok_b.decode(unseen, skip_special_tokens=True) == "the dog sat"


def test_without_keep_chars(tiny, tmp_path):
    stats = trim_vocabulary(tiny, TEXTS, tmp_path / "trim", keep_chars=False)
    with_chars = trim_vocabulary(tiny, TEXTS, tmp_path / "trim2")
    assert stats["kept"] < with_chars["kept"]
    assert_lossless(tiny, tmp_path / "trim", TEXTS)


def test_unk_score_is_preserved(tiny, tmp_path):
    """Unigram scores <unk> as min(score) - 10. "☃qz" segments as "▁ ☃q z" (-41) rather
    than "▁ <unk> qz" (-72); were the unused lowest piece "zzzz" (-60) dropped, <unk>
    would score -30 and win (-32). trim_vocabulary keeps it, so nothing changes."""
    from tokenizers import Tokenizer

    trim_vocabulary(tiny, TEXTS, tmp_path / "trim")
    trimmed = json.loads((tmp_path / "trim" / "tokenizer.json").read_text())
    assert ["zzzz", -60.0] in trimmed["model"]["vocab"]
    assert_lossless(tiny, tmp_path / "trim", ["☃qz"])
    assert Tokenizer.from_file(str(tmp_path / "trim" / "tokenizer.json")).encode("☃qz").tokens \
        == ["<s>", "▁", "☃q", "z", "</s>"]
    # The counterfactual: the same trimmed vocabulary without "zzzz".
    trimmed["model"]["vocab"] = [v for v in trimmed["model"]["vocab"] if v[0] != "zzzz"]
    trimmed["added_tokens"][-1]["id"] -= 1                 # <mask> was the last piece
    without = Tokenizer.from_str(json.dumps(trimmed))
    changed = without.encode("☃qz")
    assert changed.tokens == ["<s>", "▁", "☃", "qz", "</s>"] and changed.ids[2] == 3   # <unk>


def test_rejects_wordpiece(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "the": 4, "cat": 5, "##s": 6}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    save_tiny_encoder(tmp_path / "bert", tok, vocab_rows=len(vocab))
    with pytest.raises(ValueError, match="'WordPiece', not 'Unigram'") as e:
        trim_vocabulary(tmp_path / "bert", ["the cats"], tmp_path / "out")
    assert str(tmp_path / "bert" / "tokenizer.json") in str(e.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow    # the real multilingual-e5-small: converted once a session (470 MB, ~8 s)
def test_me5_on_a_few_sentences(me5_dir, me5_tokenizer, me5_model, tmp_path):
    """The real thing: multilingual-e5-small trimmed to a few en/hi/te sentences."""
    from safetensors import safe_open

    texts = ["passage: The film was a complete waste of money.",
             "query: मुझे यह फ़िल्म बहुत पसंद आई।",
             "passage: ఈ సినిమా చాలా బాగుంది, తప్పకుండా చూడండి!",
             "Rahul Gandhi visited Hyderabad on Monday."]
    stats = trim_vocabulary(me5_dir, texts, tmp_path / "trim")
    assert stats["original_vocab"] == 250037 and stats["texts"] == 4
    assert 13_828 < stats["kept"] < 14_000           # the single characters + these texts
    assert_lossless((me5_tokenizer, me5_model), tmp_path / "trim", texts, atol=1e-5)
    with safe_open(tmp_path / "trim" / "model.safetensors", "pt") as f:
        keys = list(f.keys())
        assert f.get_slice("embeddings.word_embeddings.weight").get_shape() == [stats["kept"], 384]
    # AutoModel gave the checkpoint a random pooler; it must not be saved as if pretrained.
    assert not any("pooler" in k for k in keys)
