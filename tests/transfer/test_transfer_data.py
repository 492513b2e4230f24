"""data/transfer: records put into the shared space, every drop counted."""

import pytest

from xlt import io
from xlt.transfer.data import prepare

LABELS = {"sentiment": {"classes": ["negative", "positive"], "neutral": "drop"},
          "ner": {"types": ["PER", "LOC", "ORG"],
                  "map": {"hi": {"NEP": "PER", "NEL": "LOC", "NEO": "ORG"}}}}


def _write(folder, rows_by_split):
    folder.mkdir(parents=True)
    for split, rows in rows_by_split.items():
        io.write_jsonl(folder / f"{split}.jsonl", rows)


def test_neutral_dropped_everywhere_and_counted(tmp_path):
    rows = [{"text": "a b c", "label": lab} for lab in ("positive", "neutral", "negative", "neutral")]
    _write(tmp_path / "in", {"train": rows, "dev": rows, "test": rows})
    r = prepare("sentiment", "hi", LABELS, tmp_path / "in", tmp_path / "out")
    for split in ("train", "dev", "test"):
        assert r["splits"][split]["dropped"] == {"neutral": 2}
        assert [x["label"] for x in io.read_jsonl(tmp_path / f"out/{split}.jsonl")] == ["positive", "negative"]


def test_threshold_policy_keeps_neutral_test_items_only(tmp_path):
    labels = {**LABELS, "sentiment": {"classes": ["negative", "positive"], "neutral": "threshold"}}
    rows = [{"text": "a b c", "label": lab} for lab in ("positive", "neutral")]
    _write(tmp_path / "in", {"train": rows, "dev": rows, "test": rows})
    r = prepare("sentiment", "hi", labels, tmp_path / "in", tmp_path / "out")
    assert r["splits"]["train"]["kept"] == 1 and r["splits"]["test"]["kept"] == 2


def test_ner_spans_mapped_and_entities_counted(tmp_path):
    rows = [{"tokens": ["x", "y", "z"], "tags": ["B-NEP", "I-NEP", "B-NEN"]},
            {"tokens": ["x"], "tags": ["B-NETI"]}]
    _write(tmp_path / "in", {"train": rows, "dev": rows, "test": rows})
    r = prepare("ner", "hi", LABELS, tmp_path / "in", tmp_path / "out")
    out = io.read_jsonl(tmp_path / "out/test.jsonl")
    assert [x["tags"] for x in out] == [["B-PER", "I-PER", "O"], ["O"]]
    assert r["splits"]["test"]["entities_before"] == {"NEN": 1, "NEP": 1, "NETI": 1}
    assert r["splits"]["test"]["entities_after"] == {"PER": 1}
    assert r["splits"]["test"]["with_entity"] == 1


def test_nothing_left_is_an_error_naming_the_file(tmp_path):
    rows = [{"text": "a b c", "label": "neutral"}]
    _write(tmp_path / "in", {"train": rows, "dev": rows, "test": rows})
    with pytest.raises(ValueError, match="train.jsonl: no record left"):
        prepare("sentiment", "hi", LABELS, tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists()
