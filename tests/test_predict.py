"""xlt.predict and `xlt predict`: batch prediction in input order, equal to a plain forward pass and
to the evaluate stages' path, on both backends; bad input named by file and line."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoTokenizer

from xlt import io, modelstore, predict, tasks
from xlt.cli import cli
from xlt.evaluate import predict as evaluate_predict

SENTENCES = ["a good phone", "बहुत खराब", "చాలా బాగుంది", "sentence number 0 1 2 3 4 5 6 7 8 9 0 1 2 3",
             "a", "वाक्य संख्या 0 1 2", "good good good good phone", "बहुत"]
WORDS = [s.split() for s in SENTENCES]
SENTIMENT_LABELS = ["negative", "neutral", "positive"]
NER_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def _finetuned(tiny_encoder, out, auto_cls, labels):
    """A classifier with a random head, stored compact (its frozen embeddings shared with the encoder),
    as the training stages write them."""
    torch.manual_seed(0)
    model = auto_cls.from_pretrained(tiny_encoder, num_labels=len(labels), id2label=dict(enumerate(labels)),
                                     label2id={l: i for i, l in enumerate(labels)})
    model.config.architectures = [type(model).__name__]     # as save_pretrained records it
    with torch.no_grad():      # a head that is not near zero, so that argmax differences would show
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    modelstore.save(model, AutoTokenizer.from_pretrained(tiny_encoder), out, pretrained_dir=tiny_encoder)
    return out


@pytest.fixture(scope="module")
def sentiment_dir(tiny_encoder, tmp_path_factory):
    return _finetuned(tiny_encoder, tmp_path_factory.mktemp("p") / "sentiment", AutoModelForSequenceClassification,
                      SENTIMENT_LABELS)


@pytest.fixture(scope="module")
def ner_dir(tiny_encoder, tmp_path_factory):
    return _finetuned(tiny_encoder, tmp_path_factory.mktemp("p") / "ner", AutoModelForTokenClassification, NER_LABELS)


def test_token_sorted_batches_cover_every_index_once_shortest_first():
    lengths = [5, 1, 9, 1, 3, 7, 2]
    batches = predict.token_sorted_batches(lengths, 3)
    assert sorted(i for b in batches for i in b) == list(range(7))
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(lengths) and [len(b) for b in batches] == [3, 3, 1]
    assert batches[0][:2] == [1, 3]          # ties keep input order


def test_padded_pads_right_with_a_mask():
    ids, mask = predict.padded([[5, 6, 7], [8]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]] and mask.tolist() == [[1, 1, 1], [1, 0, 0]]


def test_sentiment_logits_equal_one_unpadded_forward_pass_each_in_input_order(sentiment_dir):
    p = predict.Predictor(sentiment_dir, batch_size=3, bf16=False)
    assert p.task == "sentiment" and p.labels == SENTIMENT_LABELS
    got = p.logits(SENTENCES)
    with torch.inference_mode():
        for text, row in zip(SENTENCES, got):
            alone = p.model(**p.tokenizer(text, return_tensors="pt")).logits[0].numpy()
            np.testing.assert_allclose(row, alone, atol=1e-5)
    out = p.predict(SENTENCES)
    assert [o["label"] for o in out] == [SENTIMENT_LABELS[int(r.argmax())] for r in got]
    assert all(abs(sum(o["probabilities"].values()) - 1) < 1e-3 for o in out)


def test_ner_tags_equal_the_evaluate_stages_path(ner_dir):
    p = predict.Predictor(ner_dir, batch_size=3, bf16=False)
    assert p.task == "ner"
    records = [{"tokens": w, "tags": ["O"] * len(w)} for w in WORDS]
    expected = evaluate_predict(p.model, p.tokenizer, tasks.get("ner"), records)
    got = p.predict(WORDS)
    assert [o["tags"] for o in got] == expected and [o["words"] for o in got] == WORDS


def test_viterbi_decoding_gives_valid_iob2_and_changes_only_invalid_sentences(ner_dir):
    plain = predict.Predictor(ner_dir, bf16=False).predict(WORDS)
    constrained = predict.Predictor(ner_dir, bf16=False, decode="viterbi").predict(WORDS)

    def valid(tags):
        return all(not t.startswith("I-") or (p != "O" and p[2:] == t[2:]) for p, t in zip(["O"] + tags, tags))
    assert not all(valid(a["tags"]) for a in plain)      # the random head predicts some O I-X
    assert all(valid(c["tags"]) for c in constrained)
    for a, c in zip(plain, constrained):
        if valid(a["tags"]):
            assert c["tags"] == a["tags"]
    with pytest.raises(predict.PredictError, match="decoding 'beam'"):
        predict.Predictor(ner_dir, decode="beam")


def test_int8_is_torch_only_and_backends_are_checked(sentiment_dir):
    with pytest.raises(predict.PredictError, match="int8"):
        predict.Predictor(sentiment_dir, backend="onnx", int8=True)
    with pytest.raises(predict.PredictError, match="backend 'tf'"):
        predict.Predictor(sentiment_dir, backend="tf")
    q = predict.Predictor(sentiment_dir, int8=True, bf16=False)
    assert "int8" in q.describe() and len(q.predict(SENTENCES)) == len(SENTENCES)


def test_not_a_model_directory_is_named(tmp_path):
    with pytest.raises(predict.PredictError, match="no config.json"):
        predict.Predictor(tmp_path)


@pytest.mark.parametrize("which", ["sentiment", "ner"])
def test_onnx_backend_agrees_with_torch_and_exports_once(which, sentiment_dir, ner_dir, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    model_dir = sentiment_dir if which == "sentiment" else ner_dir
    inputs = SENTENCES if which == "sentiment" else WORDS
    reference = predict.Predictor(model_dir, bf16=False).logits(inputs)
    fast = predict.Predictor(model_dir, backend="onnx", batch_size=3, cache_dir=tmp_path)
    assert fast.onnx_path.parent.parent == tmp_path and "onnxruntime" in fast.describe()
    assert io.read_json(fast.onnx_path.parent / "source.json")["largest_logit_difference_on_check"] < 1e-4
    for a, b in zip(fast.logits(inputs), reference):
        np.testing.assert_allclose(a, b, atol=1e-4)
    # A second predictor reuses the cached export (exporting again would fail here).
    monkeypatch.setattr(torch.onnx, "export", lambda *a, **k: pytest.fail("exported twice"))
    again = predict.Predictor(model_dir, backend="onnx", cache_dir=tmp_path)
    assert again.onnx_path == fast.onnx_path


def test_an_export_that_disagrees_with_torch_is_refused_and_not_cached(sentiment_dir, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    monkeypatch.setattr(predict, "_check_export", lambda *a: 0.5)
    with pytest.raises(predict.PredictError, match="disagrees with torch"):
        predict.Predictor(sentiment_dir, backend="onnx", cache_dir=tmp_path)
    assert not list(tmp_path.rglob("model.onnx"))


def test_the_cache_key_follows_the_model_bytes(sentiment_dir, tmp_path):
    pytest.importorskip("onnxruntime")
    copy = tmp_path / "copy"
    import shutil
    shutil.copytree(sentiment_dir, copy)
    assert predict.cache_key(copy) == predict.cache_key(sentiment_dir)
    (copy / "config.json").write_text((copy / "config.json").read_text().replace("negative", "NEGATIVE"))
    assert predict.cache_key(copy) != predict.cache_key(sentiment_dir)


def test_onnx_without_its_packages_says_which_extra(sentiment_dir, tmp_path, monkeypatch):
    import builtins
    real = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name.split(".")[0] in ("onnx", "onnxruntime"):
            raise ImportError(f"No module named {name!r}", name=name)
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(predict.PredictError, match=r"\.\[onnx\]"):
        predict.Predictor(sentiment_dir, backend="onnx", cache_dir=tmp_path)


# --------------------------------------------------------------------------- input files


def test_read_inputs_text_lines_skip_blanks_and_keep_line_numbers(tmp_path):
    f = tmp_path / "in.txt"
    f.write_text("Good PHONE http://x.com\n\n  \nबहुत खराब, रवि.\n", encoding="utf-8")
    records, inputs = predict.read_inputs(f, "sentiment", clean=str.lower)
    assert [r["line"] for r in records] == [1, 4]
    assert records[0]["text"] == "Good PHONE http://x.com" and inputs[0] == "good phone http://x.com"
    records, inputs = predict.read_inputs(f, "ner")
    assert inputs == [["Good", "PHONE", "http://x.com"], ["बहुत", "खराब", ",", "रवि", "."]]   # as the corpora split


def test_read_inputs_jsonl_keeps_every_field_and_reads_tokens(tmp_path):
    f = tmp_path / "in.jsonl"
    f.write_text(json.dumps({"text": "a b", "label": "positive", "id": 7}) + "\n"
                 + json.dumps({"tokens": ["Ravi", "Delhi"], "tags": ["B-PER", "B-LOC"]}) + "\n")
    records, inputs = predict.read_inputs(f, "ner")
    assert records[0] == {"line": 1, "text": "a b", "label": "positive", "id": 7}
    assert inputs == [["a", "b"], ["Ravi", "Delhi"]] and records[1]["tags"] == ["B-PER", "B-LOC"]


@pytest.mark.parametrize("content, task, problem", [
    ('{"text": "ok"}\n{"text": \n', "sentiment", r"in\.jsonl:2: not JSON"),
    ('["a"]\n', "sentiment", r"in\.jsonl:1: not a JSON object"),
    ('{"text": "ok"}\n\n{"txt": "typo"}\n', "sentiment", r"in\.jsonl:3: needs 'text'"),
    ('{"tokens": "Ravi Delhi"}\n', "sentiment", r"in\.jsonl:1: needs 'text'"),
    ('{"tokens": ["Ravi", " "]}\n', "ner", r"in\.jsonl:1: 'tokens' must be"),
    ('{"text": "<b></b>"}\n', "sentiment", r"in\.jsonl:1: nothing left after cleaning"),
    ("\n\n", "sentiment", r"in\.jsonl: no sentences"),
])
def test_bad_input_names_file_and_line(tmp_path, content, task, problem):
    f = tmp_path / "in.jsonl"
    f.write_text(content)
    with pytest.raises(io.DataError, match=problem):
        predict.read_inputs(f, task, clean=lambda t: t.replace("<b>", "").replace("</b>", "").strip())


# --------------------------------------------------------------------------- the command


def test_cli_predict_writes_one_line_per_input_beside_its_fields(sentiment_dir, tmp_path):
    f = tmp_path / "reviews.jsonl"
    f.write_text("".join(json.dumps({"text": t, "label": "neutral"}, ensure_ascii=False) + "\n" for t in SENTENCES),
                 encoding="utf-8")
    out = tmp_path / "out" / "pred.jsonl"
    res = CliRunner().invoke(cli, ["--params", "params.yaml", "predict", str(sentiment_dir), str(f),
                                   "--out", str(out), "--batch-size", "3"])
    assert res.exit_code == 0, res.output
    rows = io.read_jsonl(out)
    assert [r["text"] for r in rows] == SENTENCES and all(r["label"] == "neutral" for r in rows)
    assert all(r["prediction"]["label"] in SENTIMENT_LABELS for r in rows)
    assert f"{len(SENTENCES)} sentiment predictions" in res.output


def test_cli_predict_reads_the_input_before_loading_the_model(sentiment_dir, tmp_path, monkeypatch):
    f = tmp_path / "reviews.jsonl"
    f.write_text('{"text": "fine"}\n{"text": 3}\n')
    monkeypatch.setattr(predict, "Predictor", lambda *a, **k: pytest.fail("the model loaded before the input was read"))
    res = CliRunner().invoke(cli, ["--params", "params.yaml", "predict", str(sentiment_dir), str(f)])
    assert isinstance(res.exception, io.DataError) and str(res.exception) == f"{f}:2: needs 'text' (a non-blank string)"


def test_cli_predict_bad_line_exits_2_naming_it(sentiment_dir, tmp_path):
    import subprocess
    import sys
    f = tmp_path / "reviews.jsonl"
    f.write_text('{"text": "fine"}\n{"text": 3}\n')
    run = subprocess.run([sys.executable, "-m", "xlt.cli", "predict", str(sentiment_dir), str(f)],
                         capture_output=True, text=True)
    assert run.returncode == 2 and f"{f}:2: needs 'text'" in run.stderr
