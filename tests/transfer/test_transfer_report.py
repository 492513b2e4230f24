"""The multilingual-vs-separate table and its sentence, from metrics files written here."""
from __future__ import annotations

from xlt import io
from xlt.transfer.report import _multilingual_finding, _multilingual_table

P = {"transfer": {"seeds": [1, 2, 3], "targets": ["te"]}}


def _scores(f1: float) -> dict:
    return {"f1": f1, "ci95": {"f1": [f1 - 0.02, f1 + 0.02]}}


def _write(root, english_seeds, multi_en, multi_te, inlang_te=None):
    for seed, f1 in zip((1, 2, 3), english_seeds):
        io.write_json(root / f"metrics/transfer/zeroshot/sentiment/seed{seed}.json", {"en": _scores(f1), "te": _scores(0.7)})
    io.write_json(root / "metrics/transfer/multilingual/sentiment.json",
                  {"examples": {"train": {"en": 2000, "te": 2050}}, "selection": {"epoch": 2.0},
                   "en": _scores(multi_en), "te": _scores(multi_te)})
    io.write_json(root / "metrics/transfer/multilingual/sentiment.run.json", {"train_seconds": 600, "train_examples": 4050})
    if inlang_te is not None:
        io.write_json(root / "metrics/transfer/inlang/sentiment/te.json", _scores(inlang_te))


def test_english_regression_is_called_against_the_seed_spread(tmp_path):
    _write(tmp_path, [0.85, 0.86, 0.84], multi_en=0.80, multi_te=0.79, inlang_te=0.81)
    line = _multilingual_finding(tmp_path, P, "sentiment")[0]
    assert "English regresses:" in line and "-5.0" in line and "Telugu 79.0 against 81.0 in-language (-2.0)" in line
    table = "\n".join(_multilingual_table(tmp_path, P, "sentiment"))
    assert "10.0 min of training" in table
    assert "| English | 80.0 | 78.0–82.0 | 85.0 ± 1.0 |" in table and "| -5.0 |" in table
    assert "| Telugu | 79.0 |" in table and "| -2.0 |" in table


def test_no_regression_within_the_spread_and_missing_in_language_model(tmp_path):
    _write(tmp_path, [0.85, 0.86, 0.84], multi_en=0.846, multi_te=0.79)
    line = _multilingual_finding(tmp_path, P, "sentiment")[0]
    assert "English does not regress" in line and "(in-language model not run)" in line
    assert "not run" in "\n".join(_multilingual_table(tmp_path, P, "sentiment"))


def test_a_gain_beyond_the_spread_is_called_an_improvement(tmp_path):
    _write(tmp_path, [0.85, 0.86, 0.84], multi_en=0.89, multi_te=0.79)
    assert "English improves: 89.0 against 85.0" in _multilingual_finding(tmp_path, P, "sentiment")[0]


def test_nothing_run_says_so(tmp_path):
    assert _multilingual_finding(tmp_path, P, "sentiment") == []
    assert "not run" in _multilingual_table(tmp_path, P, "sentiment")[0]
