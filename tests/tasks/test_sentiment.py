"""Tests for xlt.tasks.sentiment scoring against hand-computed values."""
import numpy as np
import pytest

from xlt.tasks import sentiment

GOLD = ["pos", "pos", "pos", "neg", "neg", "neu"]
PRED = ["pos", "pos", "pos", "pos", "neg", "neg"]
# pos: tp 3, predicted 4, gold 3 -> P 3/4, R 1, F 6/7
# neg: tp 1, predicted 2, gold 2 -> P 1/2, R 1/2, F 1/2
# neu: tp 0, predicted 0, gold 1 -> P 0 (zero division), R 0, F 0
P = {"pos": 0.75, "neg": 0.5, "neu": 0.0}
R = {"pos": 1.0, "neg": 0.5, "neu": 0.0}
F = {"pos": 6 / 7, "neg": 0.5, "neu": 0.0}


def test_accuracy_and_macro_scores():
    s = sentiment.scores(GOLD, PRED)
    assert s["accuracy"] == pytest.approx(4 / 6)
    assert s["precision"] == pytest.approx(sum(P.values()) / 3)   # 0.41667
    assert s["recall"] == pytest.approx(sum(R.values()) / 3)      # 0.5
    assert s["f1"] == pytest.approx(sum(F.values()) / 3)          # 0.45238, not F(macro P, macro R)
    assert s["n"] == 6


def test_per_class():
    s = sentiment.scores(GOLD, PRED)
    assert set(s["per_class"]) == {"pos", "neg", "neu"}
    for lab in ("pos", "neg", "neu"):
        assert s["per_class"][lab]["precision"] == pytest.approx(P[lab]), lab
        assert s["per_class"][lab]["recall"] == pytest.approx(R[lab]), lab
        assert s["per_class"][lab]["f1"] == pytest.approx(F[lab]), lab
    assert {lab: v["support"] for lab, v in s["per_class"].items()} == {"pos": 3, "neg": 2, "neu": 1}


def test_explicit_labels_include_a_class_never_seen():
    # A label from training that occurs neither in gold nor pred still counts in the macro average.
    s = sentiment.scores(["a", "b"], ["a", "b"], labels=["a", "b", "c"])
    assert s["accuracy"] == 1.0
    assert s["f1"] == pytest.approx(2 / 3)
    assert s["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_scores_are_plain_python_types():
    s = sentiment.scores(GOLD, PRED)
    assert type(s["accuracy"]) is float and type(s["per_class"]["pos"]["support"]) is int


def test_perfect():
    s = sentiment.scores(GOLD, GOLD)
    assert s["accuracy"] == s["precision"] == s["recall"] == s["f1"] == 1.0


def test_dev_metrics_on_logits():
    id2label = {0: "neg", 1: "neu", 2: "pos"}
    label_ids = np.array([2, 2, 2, 0, 0, 1])
    logits = np.array([[0.1, 0.2, 0.9],   # pos
                       [-1, -2, 3],       # pos
                       [0, 0, 0.5],       # pos
                       [0, 0, 0.5],       # pos (gold neg)
                       [2, 1, 0],         # neg
                       [3, 1, 0]])        # neg (gold neu)
    m = sentiment.dev_metrics((logits, label_ids), id2label)
    assert set(m) == {"accuracy", "f1"}
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["f1"] == pytest.approx(sum(F.values()) / 3)


def test_decode_argmax_to_labels():
    id2label = {0: "neg", 1: "pos"}
    logits = np.array([[0.2, 0.1], [0.0, 3.0], [-1.0, -0.5]])
    assert sentiment.decode(logits, None, id2label, [{}] * 3) == ["neg", "pos", "pos"]


def test_label_list_sorted_unique():
    assert sentiment.label_list([{"label": "pos"}, {"label": "neg"}, {"label": "pos"}]) == ["neg", "pos"]


def test_confusion():
    assert sentiment.confusion(GOLD, PRED, ["neg", "neu", "pos"]) == [[1, 0, 1], [1, 0, 0], [0, 0, 3]]
    assert sentiment.confusion_rows(["a"], ["b"]) == [{"actual": "a", "predicted": "b"}]
