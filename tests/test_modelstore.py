"""Compact model directories: frozen tensors shared with the pretrained encoder (bit-exact,
checked by sha256), the rest optionally float16; plain Hugging Face directories still load."""
from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForSequenceClassification as Classifier
from transformers import AutoModelForTokenClassification as Tagger
from transformers import AutoTokenizer

from xlt import io, modelstore

WORDS = "bert.embeddings.word_embeddings.weight"
TEXTS = ("a good phone", "बहुत खराब", "చాలా బాగుంది")


@pytest.fixture
def pretrained(tiny_encoder):
    """A tiny random encoder trimmed to TEXTS (tests/conftest.py), shared by the session: read-only."""
    return tiny_encoder


def finetuned(pretrained, cls=Classifier, labels=("negative", "positive")):
    """A 'fine-tuned' model: every tensor moved except the frozen word embeddings."""
    model = cls.from_pretrained(pretrained, num_labels=len(labels), id2label=dict(enumerate(labels)),
                                label2id={l: i for i, l in enumerate(labels)}).eval()
    with torch.no_grad():
        for name, w in model.named_parameters():
            if name != WORDS:
                w.add_(torch.randn_like(w) * 0.02)
    return model, AutoTokenizer.from_pretrained(pretrained)


def logits(model, tokenizer, texts=TEXTS):
    batch = tokenizer(list(texts), padding=True, return_tensors="pt")
    with torch.no_grad():
        return model(**batch).logits


def size(d):
    return sum(f.stat().st_size for f in d.iterdir())


def test_float32_round_trip_is_exact_and_shares_only_the_frozen_embeddings(pretrained, tmp_path):
    model, tok = finetuned(pretrained)
    out = tmp_path / "models/tiny/sentiment/hi"
    manifest = modelstore.save(model, tok, out, pretrained)
    assert list(manifest["shared"]) == [WORDS]
    ref = manifest["shared"][WORDS]["file"]      # relative: the checkout may move
    assert not ref.startswith("/") and (out / ref).resolve() == (pretrained / "model.safetensors").resolve()
    back = modelstore.load(Classifier, out)
    assert not back.training
    assert torch.equal(logits(model, tok), logits(back, tok))
    for (n, a), (m, b) in zip(model.state_dict().items(), back.state_dict().items()):
        assert n == m and torch.equal(a, b), n


def test_float16_storage_halves_the_weights_and_loads_as_float32(pretrained, tmp_path):
    model, tok = finetuned(pretrained, Tagger, ["O", "B-PER", "I-PER"])
    modelstore.save(model, tok, tmp_path / "f32", pretrained, "float32")
    modelstore.save(model, tok, tmp_path / "f16", pretrained, "float16")
    w32, w16 = ((tmp_path / d / modelstore.WEIGHTS).stat().st_size for d in ("f32", "f16"))
    assert w16 < 0.55 * w32
    back = modelstore.load(Tagger, tmp_path / "f16")
    assert all(p.dtype == torch.float32 for p in back.parameters())
    assert torch.allclose(logits(model, tok), logits(back, tok), atol=1e-2)
    assert not torch.equal(logits(model, tok), logits(back, tok))      # rounded, not the same file


def test_without_a_pretrained_dir_everything_is_stored(pretrained, tmp_path):
    model, tok = finetuned(pretrained)
    assert modelstore.save(model, tok, tmp_path / "m")["shared"] == {}
    assert torch.equal(logits(model, tok), logits(modelstore.load(Classifier, tmp_path / "m"), tok))
    assert size(tmp_path / "m") > 1.5 * (size(tmp_path / "m") - (tmp_path / "m" / modelstore.WEIGHTS).stat().st_size)


def test_a_plain_from_pretrained_fails_instead_of_inventing_embeddings(pretrained, tmp_path):
    model, tok = finetuned(pretrained)
    modelstore.save(model, tok, tmp_path / "m", pretrained)
    with pytest.raises(OSError):
        Classifier.from_pretrained(tmp_path / "m")


def test_missing_or_changed_pretrained_weights_are_clear_errors(pretrained, tmp_path):
    model, tok = finetuned(pretrained)
    out = tmp_path / "models/m"
    modelstore.save(model, tok, out, pretrained)
    manifest = io.read_json(out / modelstore.MANIFEST)
    manifest["shared"][WORDS]["file"] = "../nowhere/model.safetensors"
    io.write_json(out / modelstore.MANIFEST, manifest)
    with pytest.raises(modelstore.ModelStoreError, match="is missing; `dvc pull`"):
        modelstore.load(Classifier, out)
    manifest["shared"][WORDS]["file"] = str(pretrained / "model.safetensors")
    manifest["shared"][WORDS]["sha256"] = "0" * 64
    io.write_json(out / modelstore.MANIFEST, manifest)
    with pytest.raises(modelstore.ModelStoreError, match="not the one it was trained with"):
        modelstore.load(Classifier, out)


def test_loading_leaves_the_callers_random_state_alone(pretrained, tmp_path):
    model, tok = finetuned(pretrained)
    modelstore.save(model, tok, tmp_path / "m", pretrained)
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    modelstore.load(Classifier, tmp_path / "m")
    assert torch.equal(torch.rand(3), expected)


def test_plain_directories_still_load(pretrained, tmp_path):
    model, tok = finetuned(pretrained)
    model.save_pretrained(tmp_path / "plain")
    tok.save_pretrained(tmp_path / "plain")
    assert torch.equal(logits(model, tok), logits(modelstore.load(Classifier, tmp_path / "plain"), tok))


def test_export_writes_a_self_contained_hugging_face_directory(pretrained, tmp_path):
    model, tok = finetuned(pretrained)
    modelstore.save(model, tok, tmp_path / "m", pretrained, "float16")
    io.write_json(tmp_path / "m/train_info.json", {"labels": ["negative", "positive"]})
    modelstore.export(tmp_path / "m", tmp_path / "export", Classifier)
    plain = Classifier.from_pretrained(tmp_path / "export").eval()
    assert torch.equal(logits(modelstore.load(Classifier, tmp_path / "m"), tok), logits(plain, tok))
    assert io.read_json(tmp_path / "export/train_info.json")["labels"] == ["negative", "positive"]


def test_an_unknown_storage_dtype_is_refused(pretrained, tmp_path):
    model, tok = finetuned(pretrained)
    with pytest.raises(modelstore.ModelStoreError, match="float8"):
        modelstore.save(model, tok, tmp_path / "m", pretrained, "float8")
