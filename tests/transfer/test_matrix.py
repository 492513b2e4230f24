"""The language matrix: an in-language model on the other languages' test sets, its spans mapped with
its own language's mapping (not the test language's); the report's table and sentence."""
from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoTokenizer

from xlt import io, modelstore
from xlt.layout import Layout
from xlt.transfer.matrix import cross
from xlt.transfer.paths import matrix_metrics
from xlt.transfer.report import _matrix_finding, _matrix_table

IL_NER = ["O", "B-NEP", "I-NEP", "B-NEL", "I-NEL", "B-NEO", "I-NEO", "B-NEN", "I-NEN"]
CONLL = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]
TEST = {  # data/transfer/ner/<lang>/test.jsonl: already in the shared space
    "en": [{"tokens": ["John", "went"], "tags": ["B-PER", "O"]}],
    "hi": [{"tokens": ["राम", "गया", "घर"], "tags": ["B-PER", "O", "B-LOC"]}],
    "te": [{"tokens": ["రాము", "వెళ్ళాడు"], "tags": ["B-PER", "O"]}],
}
P = {"transfer": {"encoder": "tiny", "targets": ["hi", "te"], "seeds": [1],
                  "labels": {"ner": {"types": ["PER", "LOC", "ORG"],
                                     "map": {"en": {"PER": "PER", "LOC": "LOC", "ORG": "ORG"},
                                             "hi": {"NEP": "PER", "NEL": "LOC", "NEO": "ORG"},
                                             "te": {"NEP": "PER", "NEL": "LOC", "NEO": "ORG"}}},
                             "sentiment": {"classes": ["negative", "positive"], "neutral": "drop",
                                           "neutral_threshold": 0.75}},
                  "bootstrap": {"samples": 20, "seed": 0}, "predict_bf16": False}}


def _always(tiny_encoder, out, auto_cls, labels, label):
    """A classifier that predicts `label` for everything (zero weights, one large bias)."""
    model = auto_cls.from_pretrained(tiny_encoder, num_labels=len(labels), id2label=dict(enumerate(labels)),
                                     label2id={l: i for i, l in enumerate(labels)})
    model.config.architectures = [type(model).__name__]
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        model.classifier.bias[labels.index(label)] = 10.0
    modelstore.save(model, AutoTokenizer.from_pretrained(tiny_encoder), out, pretrained_dir=tiny_encoder)


@pytest.fixture(scope="module")
def root(tiny_encoder, tmp_path_factory):
    root = tmp_path_factory.mktemp("matrix")
    paths = Layout(root)
    for lang, records in TEST.items():
        io.write_jsonl(paths.transfer_data("ner", lang) / "test.jsonl", records)
    _always(tiny_encoder, paths.model("tiny", "ner", "hi"), AutoModelForTokenClassification, IL_NER, "B-NEP")
    _always(tiny_encoder, paths.model("tiny", "ner", "en"), AutoModelForTokenClassification, CONLL, "B-MISC")
    io.write_jsonl(paths.transfer_data("sentiment", "te") / "test.jsonl",
                   [{"text": "బాగుంది", "label": "positive"}, {"text": "బాగోలేదు", "label": "negative"},
                    {"text": "చాలా బాగుంది", "label": "positive"}])
    io.write_jsonl(paths.transfer_data("sentiment", "hi") / "test.jsonl", [{"text": "अच्छा", "label": "positive"}])
    _always(tiny_encoder, paths.model("tiny", "sentiment", "en"), AutoModelForSequenceClassification,
            ["negative", "positive"], "positive")
    return root


def test_a_hindi_model_is_mapped_with_the_hindi_mapping_on_every_other_test_set(root):
    out = cross(P, "ner", "hi", root)
    assert set(out) == {"source", "model", "en", "te"}           # never its own test set (transfer-inlang)
    # Every word B-NEP -> a one-word PER each: the gold's one PER is found, the other words are false.
    assert out["te"]["recall"] == 1.0 and out["te"]["precision"] == 0.5
    assert out["en"]["recall"] == 1.0 and out["en"]["precision"] == 0.5
    assert io.read_json(matrix_metrics(root, "ner", "hi"))["te"]["f1"] == pytest.approx(2 / 3)


def test_types_outside_the_shared_space_become_o(root):
    out = cross(P, "ner", "en", root)                            # CoNLL's MISC everywhere -> nothing predicted
    assert set(out) == {"source", "model", "hi", "te"}
    assert out["hi"]["recall"] == 0.0 and out["te"]["f1"] == 0.0


def test_sentiment_row(root):
    out = cross(P, "sentiment", "en", root)
    assert out["te"]["accuracy"] == pytest.approx(2 / 3) and out["te"]["n"] == 3
    assert out["hi"]["accuracy"] == 1.0


def test_a_missing_model_is_named(root):
    with pytest.raises(FileNotFoundError, match="models/tiny/ner/te.*train@tiny-ner-te"):
        cross(P, "ner", "te", root)


def _scores(f1):
    return {"f1": f1, "ci95": {"f1": [f1 - 0.05, f1 + 0.05]}}


def test_the_report_table_and_sentence(tmp_path):
    paths = Layout(tmp_path)
    for lang, f1 in (("en", 0.85), ("hi", 0.77), ("te", 0.66)):
        io.write_json(paths.inlang_metrics("ner", lang), _scores(f1))
    io.write_json(matrix_metrics(tmp_path, "ner", "hi"), {"en": _scores(0.5), "te": _scores(0.76)})
    io.write_json(matrix_metrics(tmp_path, "ner", "te"), {"en": _scores(0.3), "hi": _scores(0.47)})
    io.write_json(paths.zeroshot_metrics("ner", 1), {"en": _scores(0.85), "hi": _scores(0.59), "te": _scores(0.52)})
    table = _matrix_table(tmp_path, P, "ner")
    assert table[0] == "| model trained on | English test | Hindi test | Telugu test |"
    assert table[2] == "| English | **85.0 (80.0–90.0)** | not run | not run |"
    assert table[3] == "| Hindi | 50.0 (45.0–55.0) | **77.0 (72.0–82.0)** | 76.0 (71.0–81.0) |"
    finding = _matrix_finding(tmp_path, P, "ner")
    assert len(finding) == 2
    assert "Telugu, from Hindi**: the Hindi in-language model scores 76.0 on Telugu test" in finding[1]
    assert "English zero-shot 52.0 (mean of 1 source models)" in finding[1] and "Telugu's own model 66.0" in finding[1]
    assert "main pipeline's English model" not in finding[1]      # its row was not run
