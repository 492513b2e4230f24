"""xlt.decoding: argmax and constrained (valid IOB2) Viterbi decoding of per-word log-probabilities."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from xlt import decoding

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def test_viterbi_returns_the_best_valid_iob2_sequence():
    lp = np.log(np.array([
        [0.6, 0.1, 0.1, 0.1, 0.1],     # O
        [0.3, 0.05, 0.6, 0.0, 0.05],   # argmax I-PER after O: invalid
        [0.1, 0.1, 0.2, 0.0, 0.6],     # argmax I-LOC after a person: invalid
    ]) + 1e-12)
    assert decoding.argmax(lp, LABELS) == ["O", "I-PER", "I-LOC"]
    best = decoding.viterbi(lp, LABELS)
    # the best valid path by brute force over all 5**3 sequences
    start, trans = decoding.allowed_transitions(LABELS)
    valid = [s for s in itertools.product(range(5), repeat=3)
             if start[s[0]] and trans[s[0], s[1]] and trans[s[1], s[2]]]
    top = max(valid, key=lambda s: sum(lp[t, k] for t, k in enumerate(s)))
    assert best == [LABELS[k] for k in top] == ["O", "O", "O"]
    assert not trans[LABELS.index("B-PER"), LABELS.index("I-LOC")] and trans[LABELS.index("I-LOC"), LABELS.index("I-LOC")]


def test_a_valid_argmax_path_is_left_alone():
    ok = np.log(np.array([[0.1, 0.8, 0.05, 0.05, 0.0], [0.1, 0.0, 0.8, 0.1, 0.0]]) + 1e-12)
    assert decoding.viterbi(ok, LABELS) == decoding.argmax(ok, LABELS) == ["B-PER", "I-PER"]


def test_random_sentences_match_brute_force():
    rng = np.random.default_rng(0)
    start, trans = decoding.allowed_transitions(LABELS)
    for _ in range(20):
        lp = decoding.log_softmax(rng.normal(size=(4, 5)) * 3)
        valid = [s for s in itertools.product(range(5), repeat=4)
                 if start[s[0]] and all(trans[a, b] for a, b in zip(s, s[1:]))]
        top = max(valid, key=lambda s: sum(lp[t, k] for t, k in enumerate(s)))
        assert decoding.viterbi(lp, LABELS) == [LABELS[k] for k in top]


def test_decode_checks_its_name_and_handles_empty_sentences():
    assert decoding.decode(np.zeros((0, 5)), LABELS, "viterbi") == [] == decoding.decode(np.zeros((0, 5)), LABELS)
    with pytest.raises(ValueError, match="decoding 'beam'"):
        decoding.decode(np.zeros((1, 5)), LABELS, "beam")


def test_log_softmax_rows_sum_to_one():
    x = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(np.exp(decoding.log_softmax(x)).sum(-1), [1.0, 1.0])
