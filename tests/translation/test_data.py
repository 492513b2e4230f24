"""Parallel data: readers, declared filters, deduplication against dev/test, the report."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from xlt import io
from xlt.data.readers import DataError
from xlt.translation import data
from xlt.translation.data import Filters, Pair, rejection

F = Filters(max_words=10, max_length_ratio=2.5, min_script_fraction=0.6)


def write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(l + "\n" for l in lines), encoding="utf-8")


@pytest.mark.parametrize("en, tgt, lang, expected", [
    ("the house is big", "घर बड़ा है", "hi", None),
    ("the house is big", "ఇల్లు పెద్దది", "te", None),
    ("", "घर बड़ा है", "hi", "empty"),
    ("the house is big", "   ", "hi", "empty"),
    ("the house is big", "the house is big", "hi", "wrong_script"),     # untranslated target
    ("the house is big", "ఇల్లు పెద్దది", "hi", "wrong_script"),          # Telugu where Hindi is expected
    ("घर बड़ा है", "घर बड़ा है", "hi", "wrong_script"),                   # source not English
    ("one two three four five six seven eight nine ten eleven", "एक दो तीन", "hi", "too_long"),
    ("a very long english sentence indeed", "घर", "hi", "length_ratio"),
])
def test_each_filter(en, tgt, lang, expected):
    assert rejection(Pair(en, tgt, "f:1"), lang, F) == expected


def test_script_fraction_counts_combining_marks():
    # Devanagari vowel signs are category Mc/Mn: they count as letters of the script.
    assert data.script_fraction("किताब", "hi") == 1.0
    assert data.script_fraction("kitab किताब", "hi") == pytest.approx(5 / 10)
    assert data.script_fraction("123 !!", "en") == 0.0


def test_normalise_ignores_case_punctuation_and_spacing():
    assert data.normalise("Hello,  World!") == data.normalise("hello world")
    assert data.normalise("नमस्ते।") == data.normalise("नमस्ते")


def test_aligned_reader_reports_invalid_utf8_with_line(tmp_path):
    (tmp_path / "a.en").write_text("one\ntwo\n")
    (tmp_path / "a.hi").write_bytes("एक\n".encode() + b"\xff\xfe bad\n")
    with pytest.raises(DataError, match=r"a\.hi:2: not valid UTF-8"):
        data.aligned(tmp_path / "a.en", tmp_path / "a.hi")


def test_aligned_reader_keeps_carriage_returns_inside_lines_aligned(tmp_path):
    (tmp_path / "a.en").write_bytes(b"one\r\ntwo\r\n")
    (tmp_path / "a.hi").write_text("एक\nदो\n")
    pairs = data.aligned(tmp_path / "a.en", tmp_path / "a.hi")
    assert [(p.en, p.tgt) for p in pairs] == [("one", "एक"), ("two", "दो")]
    assert pairs[1].source.endswith("a.hi:2")


def _params(train: dict) -> dict:
    return {"data": {"seed": 1},
            "translation": {"data": {"filters": {"max_words": 10, "max_length_ratio": 2.5, "min_script_fraction": 0.6},
                                     "hi": {"train": train, "dev": "flores200-dev", "test": {"flores200-devtest": None}}}}}


@pytest.fixture
def raw(tmp_path) -> Path:
    raw = tmp_path / "raw"
    write_lines(raw / "flores200/dev/eng_Latn.dev", ["the sky is blue", "water is wet", "a dev sentence here"])
    write_lines(raw / "flores200/dev/hin_Deva.dev", ["आसमान नीला है", "पानी गीला है", "एक देव वाक्य यहाँ"])
    write_lines(raw / "flores200/devtest/eng_Latn.devtest", ["water is wet", "the test sentence"])
    write_lines(raw / "flores200/devtest/hin_Deva.devtest", ["पानी गीला है", "परीक्षण वाक्य"])
    write_lines(raw / "opus100-en-hi/opus.en-hi-dev.en",
                ["good morning friend", "The test sentence.", "good morning friend", "", "hello there",
                 "the sky is blue", "no translation here"])
    write_lines(raw / "opus100-en-hi/opus.en-hi-dev.hi",
                ["सुप्रभात दोस्त", "कुछ और बात है", "सुप्रभात दोस्त", "खाली", "नमस्ते वहाँ",
                 "कुछ अलग", "no translation here"])
    return raw


def test_prepare_filters_deduplicates_and_reports(raw, tmp_path):
    out = tmp_path / "out"
    report = data.prepare(_params({"opus100-dev": None}), "hi", raw, out)
    train = io.read_jsonl(out / "train.jsonl")
    assert [(r["en"], r["tgt"]) for r in train] == [("good morning friend", "सुप्रभात दोस्त"),
                                                    ("hello there", "नमस्ते वहाँ")]
    assert train[1]["source"].endswith("opus.en-hi-dev.hi:5")
    dropped = report["corpora"]["opus100-dev"]["dropped"]
    # the test sentence (case and punctuation differ) and the dev sentence are never trained on
    assert dropped == {"overlaps_eval": 2, "duplicate": 1, "empty": 1, "wrong_script": 1}
    assert report["corpora"]["opus100-dev"]["read"] == 7
    assert sum(dropped.values()) + report["corpora"]["opus100-dev"]["kept"] == 7
    # dev: the sentence also in devtest is dropped; test sets are kept whole
    dev = io.read_jsonl(out / "dev.jsonl")
    assert [r["en"] for r in dev] == ["the sky is blue", "a dev sentence here"]
    assert report["dev"]["dropped"] == {"overlaps_test": 1}
    assert len(io.read_jsonl(out / "test/flores200-devtest.jsonl")) == 2
    assert json.loads((out / "report.json").read_text())["train"] == 2


def test_line_count_mismatch_leaves_the_corpus_out_and_counts_it(raw, tmp_path):
    write_lines(raw / "opus100-en-hi/opus.en-hi-dev.hi", ["सुप्रभात दोस्त"])
    (raw / "bible-en-hi").mkdir()
    (raw / "bible-en-hi/hindi_english_bible__final.json").write_text(json.dumps(
        [{"english_verse": "in the beginning was light", "hindi_verse": "आदि में प्रकाश था"},
         {"english_verse": "a verse without its translation"}]), encoding="utf-8")
    report = data.prepare(_params({"opus100-dev": None, "bible": None}), "hi", raw, tmp_path / "out")
    assert report["corpora"]["opus100-dev"]["kept"] == 0
    assert report["corpora"]["opus100-dev"]["dropped"] == {"line_count_mismatch": 7}
    assert "has 7 lines but" in report["corpora"]["opus100-dev"]["examples"]["line_count_mismatch"][0]
    assert report["corpora"]["bible"]["dropped"] == {"empty": 1}     # the malformed record, counted
    assert report["train"] == 1


def test_cap_keeps_a_seeded_subset(raw, tmp_path):
    a = data.prepare(_params({"opus100-dev": 1}), "hi", raw, tmp_path / "a")
    b = data.prepare(_params({"opus100-dev": 1}), "hi", raw, tmp_path / "b")
    assert a["train"] == 1 and a["corpora"]["opus100-dev"]["dropped"]["over_cap"] == 1
    assert b == a      # the same report: the same seeded draw
    assert io.read_jsonl(tmp_path / "a/train.jsonl") == io.read_jsonl(tmp_path / "b/train.jsonl")


def test_nothing_left_is_an_error(raw, tmp_path):
    write_lines(raw / "opus100-en-hi/opus.en-hi-dev.en", ["water is wet"])
    write_lines(raw / "opus100-en-hi/opus.en-hi-dev.hi", ["पानी गीला है"])
    with pytest.raises(ValueError, match="no training pairs left"):
        data.prepare(_params({"opus100-dev": None}), "hi", raw, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unknown_corpus_and_wrong_pair_are_clear_errors(raw):
    with pytest.raises(ValueError, match="unknown parallel corpus 'opus'"):
        data.read_corpus("opus", raw, "hi")
    with pytest.raises(ValueError, match="no English-hi side"):
        data.read_corpus("pib", raw, "hi")


def test_missing_raw_file_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="dvc pull -R data/raw"):
        data.read_corpus("flores200-dev", tmp_path, "te")


def test_hub_style_corpus_from_a_local_dataset_directory(tmp_path, raw):
    # The same reader loads `hf:ai4bharat/samanantar:hi` where the Hub is reachable.
    from datasets import Dataset
    Dataset.from_dict({"idx": [0, 1], "src": ["the river is long", "birds can fly"],
                       "tgt": ["नदी लंबी है", "पक्षी उड़ सकते हैं"]}).save_to_disk(str(tmp_path / "samanantar"))
    name = f"hf:{tmp_path / 'samanantar'}"
    pairs = data.read_corpus(name, raw, "hi")
    assert [(p.en, p.tgt) for p in pairs] == [("the river is long", "नदी लंबी है"), ("birds can fly", "पक्षी उड़ सकते हैं")]
    assert pairs[1].source == f"{name}:row 1"
    report = data.prepare(_params({name: None}), "hi", raw, tmp_path / "out")
    assert report["corpora"][name]["kept"] == 2


@pytest.mark.slow    # waits for the unreachable Hub
def test_unreachable_hub_corpus_is_a_clear_error(raw, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(ValueError, match="could not load 'no-such-org/no-such-corpus'.*save_to_disk"):
        data.read_corpus("hf:no-such-org/no-such-corpus:hi", raw, "hi")
