"""Shared-space scores: strict and overlap NER F1, majority baseline, bootstrap intervals."""
import pytest
from seqeval.metrics import f1_score

from xlt.transfer.scores import bootstrap, ner_scores, overlap_counts, sentiment_scores, worth


def test_overlap_counts_boundary_differences_as_matches():
    gold = ["B-PER", "I-PER", "O", "B-LOC"]
    pred = ["O", "B-PER", "O", "B-ORG"]           # PER boundary differs, LOC typed ORG
    assert overlap_counts(gold, pred) == (1, 2, 2)
    s = ner_scores([gold], [pred])
    assert s["f1"] == 0.0                          # strict: nothing exact
    assert s["overlap"]["f1"] == pytest.approx(0.5)


def test_overlap_matching_is_one_to_one():
    gold = ["B-PER", "I-PER", "I-PER", "I-PER"]
    pred = ["B-PER", "I-PER", "B-PER", "I-PER"]     # two predictions over one gold span
    assert overlap_counts(gold, pred) == (1, 2, 1)


def test_strict_f1_is_seqeval():
    gold = [["B-PER", "I-PER", "O"], ["B-LOC", "O", "B-ORG"]]
    pred = [["B-PER", "I-PER", "O"], ["B-LOC", "O", "O"]]
    s = ner_scores(gold, pred)
    assert s["f1"] == pytest.approx(f1_score(gold, pred))
    assert s["entities"] == 3 and s["per_type"]["ORG"]["support"] == 1


def test_sentiment_scores_with_majority_baseline():
    gold = ["positive"] * 8 + ["negative"] * 2
    pred = ["positive"] * 10
    s = sentiment_scores(gold, pred, ["negative", "positive"])
    assert s["accuracy"] == pytest.approx(0.8)
    assert s["majority"] == {"class": "positive", "accuracy": 0.8, "f1": pytest.approx(s["f1"])}
    assert s["f1"] == pytest.approx((0 + 2 * 8 / 18) / 2)


def test_bootstrap_interval_contains_the_score_and_narrows_with_more_items():
    gold = ["positive", "negative"] * 20
    pred = ["positive", "positive", "negative", "negative"] * 10
    small = bootstrap("sentiment", gold, pred, ["negative", "positive"], samples=500, seed=1)
    big = bootstrap("sentiment", gold * 10, pred * 10, ["negative", "positive"], samples=500, seed=1)
    s = sentiment_scores(gold, pred, ["negative", "positive"])
    assert small["accuracy"][0] <= s["accuracy"] <= small["accuracy"][1]
    assert big["accuracy"][1] - big["accuracy"][0] < small["accuracy"][1] - small["accuracy"][0]
    assert bootstrap("sentiment", gold, pred, ["negative", "positive"], samples=200, seed=3) == \
        bootstrap("sentiment", gold, pred, ["negative", "positive"], samples=200, seed=3)


def test_bootstrap_ner_resamples_sentences():
    gold = [["B-PER", "O"], ["B-LOC", "O"], ["O", "O"]] * 5
    pred = [["B-PER", "O"], ["O", "O"], ["O", "O"]] * 5
    ci = bootstrap("ner", gold, pred, samples=300, seed=0)
    f1 = ner_scores(gold, pred)["f1"]
    assert ci["f1"][0] <= f1 <= ci["f1"][1] and ci["f1"][0] < ci["f1"][1]
    assert ci["overlap_f1"][0] <= ner_scores(gold, pred)["overlap"]["f1"] <= ci["overlap_f1"][1]


def test_worth_of_one_entity():
    s = ner_scores([["B-ORG"]] * 15, [["O"]] * 15)
    assert worth("ner", s)["per_type"]["ORG"] == pytest.approx(100 / 15)
