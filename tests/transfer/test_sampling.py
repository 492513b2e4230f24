"""k-shot samples: deterministic per seed, nested across k, stratified."""
from collections import Counter

import pytest

from xlt.transfer.sampling import count_entities, draw_order, has_entity, k_shot, nested_order


def sentiment_records(n_pos=300, n_neg=60):
    return [{"text": f"p{i}", "label": "positive"} for i in range(n_pos)] + \
           [{"text": f"n{i}", "label": "negative"} for i in range(n_neg)]


def ner_records(n_ent=30, n_plain=170):
    return [{"tokens": ["a", "b"], "tags": ["B-PER", "O"], "id": i} for i in range(n_ent)] + \
           [{"tokens": ["a", "b"], "tags": ["O", "O"], "id": n_ent + i} for i in range(n_plain)]


def test_same_seed_same_sample_other_seed_other_sample():
    recs = sentiment_records()
    assert draw_order("sentiment", recs, 7) == draw_order("sentiment", recs, 7)
    assert draw_order("sentiment", recs, 7) != draw_order("sentiment", recs, 8)


def test_samples_are_nested():
    recs = sentiment_records()
    order = draw_order("sentiment", recs, 3)
    small, big = k_shot(recs, 10, order), k_shot(recs, 100, order)
    assert all(r in big for r in small)
    assert k_shot(recs, 100, order)[:10] == small


def test_sentiment_samples_are_class_balanced():
    recs = sentiment_records()       # 83% positive
    order = draw_order("sentiment", recs, 1)
    for k in (10, 50, 100):
        counts = Counter(r["label"] for r in k_shot(recs, k, order))
        assert counts["positive"] == counts["negative"] == k // 2, (k, counts)
    # Once the minority class runs out, the rest follows.
    assert Counter(r["label"] for r in k_shot(recs, 200, order))["negative"] == 60


def test_ner_samples_hold_the_declared_share_of_entity_sentences():
    recs = ner_records()             # 15% of sentences hold an entity
    order = draw_order("ner", recs, 5, entity_share=0.5)
    for k in (10, 20, 40):
        sample = k_shot(recs, k, order)
        assert sum(map(has_entity, sample)) == k // 2
        assert count_entities(sample) == k // 2
    assert sum(map(has_entity, k_shot(recs, 100, order))) == 30    # all there are


def test_order_is_a_permutation():
    recs = sentiment_records()
    order = nested_order(recs, lambda r: r["label"], 2)
    assert sorted(order) == list(range(len(recs)))      # nothing lost or repeated


def test_all_and_too_many():
    recs = sentiment_records(5, 5)
    assert k_shot(recs, "all", []) == recs
    with pytest.raises(ValueError, match="only 10"):
        k_shot(recs, 11, list(range(10)))
