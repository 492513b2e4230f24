"""Shared label spaces: span-level NER mapping (identical for gold and predictions) and the
sentiment rules (shared-class argmax, neutral policies)."""
import numpy as np
import pytest

from xlt.transfer.labels import NerSpace, SentimentSpace, map_spans

CONLL = {"PER": "PER", "LOC": "LOC", "ORG": "ORG"}
ILNER = {"NEP": "PER", "NEL": "LOC", "NEO": "ORG"}


def test_unmapped_types_become_o():
    assert map_spans(["B-MISC", "I-MISC", "O", "B-PER"], CONLL) == ["O", "O", "O", "B-PER"]
    assert map_spans(["B-NEN", "B-NETI", "I-NETI", "B-NEL"], ILNER) == ["O", "O", "O", "B-LOC"]


def test_types_are_renamed_span_by_span():
    assert map_spans(["B-NEP", "I-NEP", "O", "B-NEO", "I-NEO", "I-NEO"], ILNER) == \
        ["B-PER", "I-PER", "O", "B-ORG", "I-ORG", "I-ORG"]


def test_broken_sequence_is_split_into_spans_before_mapping():
    # B-ORG I-MISC: two spans (ORG, MISC); only ORG survives, and it is one token long.
    assert map_spans(["B-ORG", "I-MISC", "O"], CONLL) == ["B-ORG", "O", "O"]
    # An I- without B- starts a span (seqeval's rule), and is re-encoded as B-.
    assert map_spans(["O", "I-NEL", "I-NEL"], ILNER) == ["O", "B-LOC", "I-LOC"]
    # A type change inside a run of I- tags starts a new span.
    assert map_spans(["I-NEP", "I-NEL"], ILNER) == ["B-PER", "B-LOC"]


def test_gold_and_prediction_get_the_same_treatment():
    space = NerSpace(("PER", "LOC", "ORG"), {"en": CONLL, "hi": ILNER})
    tags = ["B-ORG", "I-MISC", "B-PER"]
    assert space.map_tags(tags, "en") == map_spans(tags, CONLL)
    with pytest.raises(ValueError, match="no entry for 'te'"):
        space.map_tags(tags, "te")


def test_ner_labels_in_declared_order():
    assert NerSpace(("PER", "LOC"), {}).labels() == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def test_sentiment_argmax_over_shared_classes_only():
    space = SentimentSpace(("negative", "positive"))
    # A 3-class model whose neutral logit is largest still answers negative or positive.
    logits = np.array([[1.0, 9.0, 0.5], [0.0, 9.0, 2.0]])
    assert space.predict(logits, ["negative", "neutral", "positive"]) == ["negative", "positive"]


def test_neutral_threshold_policy():
    space = SentimentSpace(("negative", "positive"), neutral="threshold", neutral_threshold=0.75)
    logits = np.log(np.array([[0.6, 0.4], [0.9, 0.1], [0.2, 0.8]]))
    assert space.predict(logits, ["negative", "positive"]) == ["neutral", "negative", "positive"]
    assert space.keep_gold("neutral")
    assert not SentimentSpace(("negative", "positive")).keep_gold("neutral")


def test_model_without_a_shared_class_is_refused():
    with pytest.raises(ValueError, match="no class"):
        SentimentSpace(("negative", "positive")).predict(np.zeros((1, 2)), ["negative", "neutral"])
