"""Tests for xlt.data.split on synthetic records (no data/ is read)."""
from collections import Counter

import pytest

from xlt.data.split import distribution, make_splits, stratified_split, stratum

RATIOS = {"train": 0.70, "dev": 0.15, "test": 0.15}


def sentiment_records(counts: dict[str, int]) -> list[dict]:
    out, i = [], 0
    for label, n in counts.items():
        for _ in range(n):
            out.append({"id": i, "text": f"text {i}", "label": label})
            i += 1
    return out


def ids(records):
    return [r["id"] for r in records]


@pytest.fixture(scope="module")
def thousand():
    return sentiment_records({"positive": 500, "negative": 300, "neutral": 200})


@pytest.fixture(scope="module")
def split_thousand(thousand):
    return stratified_split(thousand, RATIOS, seed=42)


def test_ratios_roughly_70_15_15(split_thousand):
    sizes = {k: len(v) for k, v in split_thousand.items()}
    assert set(sizes) == {"train", "dev", "test"}
    assert sum(sizes.values()) == 1000
    assert abs(sizes["train"] - 700) <= 5
    assert abs(sizes["dev"] - 150) <= 5
    assert abs(sizes["test"] - 150) <= 5


def test_class_proportions_preserved(split_thousand):
    overall = {"positive": 0.5, "negative": 0.3, "neutral": 0.2}
    for name, recs in split_thousand.items():
        dist = Counter(r["label"] for r in recs)
        for label, share in overall.items():
            assert abs(dist[label] / len(recs) - share) < 0.02, (name, label, dist)
    # Stratified, the counts are exact up to rounding (a random split is off by several).
    expected = {"train": (350, 210, 140), "dev": (75, 45, 30), "test": (75, 45, 30)}
    for name, counts in expected.items():
        dist = Counter(r["label"] for r in split_thousand[name])
        got = (dist["positive"], dist["negative"], dist["neutral"])
        assert all(abs(g - e) <= 1 for g, e in zip(got, counts)), (name, got, counts)


def test_no_record_lost_or_duplicated(thousand, split_thousand):
    all_ids = [i for recs in split_thousand.values() for i in ids(recs)]
    assert len(all_ids) == len(set(all_ids)) == len(thousand)
    assert set(all_ids) == set(ids(thousand))


def test_records_returned_unchanged_and_in_input_order(thousand, split_thousand):
    by_id = {r["id"]: r for r in thousand}
    for recs in split_thousand.values():
        assert ids(recs) == sorted(ids(recs))
        assert all(r == by_id[r["id"]] for r in recs)


def test_deterministic_for_same_seed(thousand, split_thousand):
    again = stratified_split(thousand, RATIOS, seed=42)
    assert {k: ids(v) for k, v in again.items()} == {k: ids(v) for k, v in split_thousand.items()}


def test_different_for_another_seed(thousand, split_thousand):
    other = stratified_split(thousand, RATIOS, seed=7)
    assert ids(other["test"]) != ids(split_thousand["test"])
    assert ids(other["train"]) != ids(split_thousand["train"])
    # ... while still stratified and of the same sizes.
    assert {k: len(v) for k, v in other.items()} == {k: len(v) for k, v in split_thousand.items()}


def test_other_ratios_respected():
    recs = sentiment_records({"a": 300, "b": 100})
    s = stratified_split(recs, {"train": 0.5, "dev": 0.1, "test": 0.4}, seed=1)
    assert abs(len(s["train"]) - 200) <= 3
    assert abs(len(s["dev"]) - 40) <= 3
    assert abs(len(s["test"]) - 160) <= 3


@pytest.mark.parametrize("rare_n", [1, 2])
def test_works_with_a_too_rare_class(rare_n):
    recs = sentiment_records({"positive": 60, "negative": 40, "rare": rare_n})
    s = stratified_split(recs, RATIOS, seed=3)
    all_ids = sorted(i for v in s.values() for i in ids(v))
    assert all_ids == list(range(100 + rare_n))
    assert sum(Counter(r["label"] for r in v)["rare"] for v in s.values()) == rare_n
    assert all(v for v in s.values())


def test_three_member_class_is_not_lost():
    recs = sentiment_records({"positive": 60, "negative": 40, "rare": 3})
    for seed in range(5):
        s = stratified_split(recs, RATIOS, seed=seed)
        per_split = [Counter(r["label"] for r in s[k])["rare"] for k in ("train", "dev", "test")]
        assert sum(per_split) == 3 and per_split[0] >= 1, (seed, per_split)


def test_rare_class_does_not_unstratify_dev_and_test():
    recs = sentiment_records({"positive": 700, "negative": 300, "rare": 3})
    for seed in range(5):
        s = stratified_split(recs, RATIOS, seed=seed)
        for name in ("dev", "test"):
            c = Counter(r["label"] for r in s[name])
            # Exactly stratified: 105 positive and 45 negative, give or take one.
            assert abs(c["positive"] - 105) <= 1 and abs(c["negative"] - 45) <= 1, (seed, name, c)


def test_several_singleton_classes_pooled():
    recs = sentiment_records({"positive": 60, "negative": 40, "r1": 1, "r2": 1, "r3": 1, "r4": 1})
    s = stratified_split(recs, RATIOS, seed=0)
    assert sum(len(v) for v in s.values()) == 104
    assert len({i for v in s.values() for i in ids(v)}) == 104


def test_small_dataset_still_splits():
    recs = sentiment_records({"a": 6, "b": 4})
    s = stratified_split(recs, RATIOS, seed=0)
    assert all(len(v) >= 1 for v in s.values())
    assert sorted(i for v in s.values() for i in ids(v)) == list(range(10))


def test_too_few_records_rejected():
    with pytest.raises(ValueError, match="cannot split 2 records"):
        stratified_split(sentiment_records({"a": 2}), RATIOS, seed=0)


# --------------------------------------------------------------------------- NER stratum

def ner(tags):
    return {"tokens": ["w"] * len(tags), "tags": tags}


def test_ner_stratum_most_frequent_entity_type():
    assert stratum(ner(["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC"])) == "LOC"
    assert stratum(ner(["B-ORG", "I-ORG", "I-ORG", "I-ORG"])) == "ORG"  # counted by entity, not token
    assert stratum(ner(["O", "O"])) == "none"


def test_sentiment_stratum_is_label():
    assert stratum({"text": "x", "label": "neutral"}) == "neutral"


def test_ner_split_stratified_by_entity_type():
    recs = ([ner(["B-PER", "O"]) for _ in range(40)] + [ner(["B-LOC", "I-LOC"]) for _ in range(40)]
            + [ner(["O", "O", "O"]) for _ in range(20)])
    for i, r in enumerate(recs):
        r["id"] = i
    s = stratified_split(recs, RATIOS, seed=42)
    for name, part in s.items():
        d = distribution(part)
        assert set(d) == {"PER", "LOC", "none"}, (name, d)
        assert abs(d["PER"] / len(part) - 0.4) < 0.1 and abs(d["none"] / len(part) - 0.2) < 0.1
    assert sorted(i for v in s.values() for i in ids(v)) == list(range(100))


def test_distribution_counts_strata_sorted():
    recs = sentiment_records({"pos": 3, "neg": 2})
    assert distribution(recs) == {"neg": 2, "pos": 3}
    assert list(distribution(recs)) == ["neg", "pos"]


# --------------------------------------------------------------------------- make_splits

@pytest.fixture
def official():
    train = [dict(r, id=f"tr{i}") for i, r in enumerate(sentiment_records({"pos": 30, "neg": 30}))]
    dev = [dict(r, id=f"dv{i}") for i, r in enumerate(sentiment_records({"pos": 5, "neg": 5}))]
    test = [dict(r, id=f"te{i}") for i, r in enumerate(sentiment_records({"pos": 10, "neg": 10}))]
    return {"train": train, "dev": dev, "test": test}


def test_official_mode_keeps_official_split(official):
    out = make_splits(official, "official", RATIOS, seed=42)
    assert {k: ids(v) for k, v in out.items()} == {k: ids(v) for k, v in official.items()}


def test_paper_mode_pools_and_resplits(official):
    out = make_splits(official, "paper", RATIOS, seed=42)
    pooled = sorted(i for v in official.values() for i in ids(v))
    assert sorted(i for v in out.values() for i in ids(v)) == pooled
    assert abs(len(out["train"]) - 63) <= 2 and abs(len(out["test"]) - 13) <= 2
    # The official test set is no longer the test set: pooled material is mixed in.
    assert {i[:2] for i in ids(out["test"])} != {"te"}
    assert ids(out["test"]) != ids(official["test"])


def test_paper_mode_deterministic(official):
    a = make_splits(official, "paper", RATIOS, seed=42)
    b = make_splits(official, "paper", RATIOS, seed=42)
    assert {k: ids(v) for k, v in a.items()} == {k: ids(v) for k, v in b.items()}


@pytest.mark.parametrize("mode", ["official", "paper"])
def test_unsplit_dataset_is_split_in_both_modes(mode):
    recs = sentiment_records({"pos": 40, "neg": 40, "neu": 20})
    out = make_splits({"all": recs}, mode, RATIOS, seed=42)
    assert set(out) == {"train", "dev", "test"}
    assert sorted(i for v in out.values() for i in ids(v)) == list(range(100))
    assert abs(len(out["train"]) - 70) <= 2
