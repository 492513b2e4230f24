"""Tests for xlt.data.readers on small hand-written fixtures (tests/fixtures/raw/).

The fixtures mirror the data/raw layout with a few lines each, dirty cases included;
tests/fixtures/raw/_errors/ holds files that must be rejected. Nothing here reads
data/raw: the tests must run on a fresh clone without `dvc pull`.
"""

from pathlib import Path

import pytest

from xlt.data.readers import (
    DATASETS,
    DataError,
    Repairs,
    read_actsa,
    read_conll2003,
    read_dataset,
    read_iitp_csv,
    read_ilner,
    read_sst2_tsv,
)

RAW = Path(__file__).resolve().parents[1] / "fixtures" / "raw"
ERRORS = RAW / "_errors"


def _assert_iob2(records):
    for r in records:
        assert len(r["tokens"]) == len(r["tags"])
        prev = "O"
        for tag in r["tags"]:
            assert tag == "O" or tag[:2] in ("B-", "I-"), tag
            if tag.startswith("I-"):
                assert prev[2:] == tag[2:], (r["source"], r["tags"])
            prev = tag


# --------------------------------------------------------------------------- fixtures are what they claim


def test_fixture_bytes_keep_their_dirt():
    # An editor or git setting that normalises line endings/BOMs would make the dirty-input
    # tests pass vacuously; check the bytes are really there.
    actsa = (RAW / "actsa" / "ACTSA_telugu_polarity_annotated_UTF.txt").read_bytes()
    assert actsa.startswith(b"\xef\xbb\xbf") and b"\r\n" in actsa
    assert b"\r\n" in (RAW / "sst2" / "test.tsv").read_bytes()
    testb = (RAW / "conll2003" / "eng.testb").read_bytes()
    assert b"\r" in testb and b"\n" not in testb
    assert b"\xff" in (ERRORS / "ilner_invalid_utf8.txt").read_bytes()


# --------------------------------------------------------------------------- Repairs


def test_repairs_counts_examples_and_merge():
    r = Repairs()
    for i in range(7):
        r.add("junk_tag_to_O", "/x/Hindi-train.txt", i + 1, "'-' -> O")
    r.add("bom_stripped", "a.txt", 1)
    d = r.to_dict()
    assert d["junk_tag_to_O"]["count"] == 7
    assert d["junk_tag_to_O"]["examples"] == [f"Hindi-train.txt:{i}: '-' -> O" for i in range(1, 6)]
    assert d["bom_stripped"] == {"count": 1, "examples": ["a.txt:1"]}
    assert r["junk_tag_to_O"] == 7 and r["never_seen"] == 0
    assert r.total() == 8

    other = Repairs()
    other.add("bom_stripped", "b.txt", 1)
    other.add("crlf_normalised", "b.txt", None, "2 endings")
    r.merge(other)
    assert r["bom_stripped"] == 2 and r.total() == 10
    assert r.to_dict()["crlf_normalised"]["examples"] == ["b.txt: 2 endings"]


# --------------------------------------------------------------------------- sentiment readers


def test_actsa_bom_crlf_labels():
    rep = Repairs()
    recs = read_actsa(RAW / "actsa" / "ACTSA_telugu_polarity_annotated_UTF.txt", rep)
    assert [r["label"] for r in recs] == ["neutral", "positive", "negative", "neutral"]
    assert recs[0]["text"] == "పరువు నష్టం కలిగించే"  # no BOM, no label, no spaces
    assert not any("\r" in r["text"] or "\ufeff" in r["text"] for r in recs)
    assert recs[3]["text"] == "పట్టిక"  # tab separator, no final newline
    assert [r["source"] for r in recs] == [f"ACTSA_telugu_polarity_annotated_UTF.txt:{i}" for i in (1, 2, 3, 5)]
    assert rep["bom_stripped"] == 1
    assert rep["crlf_normalised"] == 1  # once per file, not per line
    assert rep["empty_text_skipped"] == 1  # line 4: "+1" with no sentence
    assert rep.to_dict()["empty_text_skipped"]["examples"] == ["ACTSA_telugu_polarity_annotated_UTF.txt:4: label positive"]


def test_iitp_csv_commas_quotes_multiline():
    rep = Repairs()
    recs = read_iitp_csv(RAW / "iitp-product-reviews" / "hi-train.csv", rep)
    assert [r["label"] for r in recs] == ["negative", "neutral", "positive", "positive", "neutral"]
    assert recs[1]["text"] == "मगर , इस तरफ कोई ध्यान नहीं"
    assert recs[2]["text"] == 'कैमरा "बहुत" अच्छा है'
    assert recs[3]["text"] == "पहली पंक्ति\nदूसरी पंक्ति"
    # line numbers stay right after a quoted field that spans lines 4-5
    assert [r["source"] for r in recs] == [f"hi-train.csv:{i}" for i in (1, 2, 3, 4, 7)]
    assert rep["empty_text_skipped"] == 1
    assert rep.to_dict()["empty_text_skipped"]["examples"] == ["hi-train.csv:6: label negative"]


def test_sst2_header_and_empty_text():
    rep = Repairs()
    recs = read_sst2_tsv(RAW / "sst2" / "train.tsv", rep)
    assert [(r["text"], r["label"]) for r in recs] == [
        ("it 's a charming journey .", "positive"),
        ("unflinchingly bleak", "negative"),
        ('" quoted " start', "positive"),  # bare quotes are text, not CSV quoting
    ]
    assert [r["source"] for r in recs] == ["train.tsv:2", "train.tsv:3", "train.tsv:5"]
    assert rep["empty_text_skipped"] == 1 and rep["crlf_normalised"] == 0


def test_sst2_crlf():
    rep = Repairs()
    recs = read_sst2_tsv(RAW / "sst2" / "test.tsv", rep)
    assert [(r["text"], r["label"]) for r in recs] == [("warm and funny", "positive"), ("boring", "negative")]
    assert rep["crlf_normalised"] == 1


# --------------------------------------------------------------------------- NER readers


def test_conll2003_docstart_and_iob1_to_iob2():
    rep = Repairs()
    recs = read_conll2003(RAW / "conll2003" / "eng.train", rep)
    assert [r["tokens"] for r in recs] == [
        ["EU", "rejects", "German", "call"],
        ["Peter", "Blackburn", "John", "Smith", "London"],
        ["BRUSSELS", "1996-08-22"],
    ]
    assert [r["tags"] for r in recs] == [
        ["B-ORG", "O", "B-MISC", "O"],
        ["B-PER", "I-PER", "B-PER", "I-PER", "B-LOC"],  # IOB1 B-PER between adjacent persons is kept
        ["B-LOC", "O"],
    ]
    assert [r["source"] for r in recs] == ["eng.train:3", "eng.train:8", "eng.train:16"]
    assert rep["docstart_skipped"] == 2
    assert rep["iob1_to_iob2"] == 5  # EU, German, Peter, London, BRUSSELS
    _assert_iob2(recs)


def test_conll2003_bare_cr_line_endings():
    rep = Repairs()
    recs = read_conll2003(RAW / "conll2003" / "eng.testb", rep)
    assert [r["tokens"] for r in recs] == [["SOCCER", "-", "JAPAN"], ["CHINA"]]
    assert [r["tags"] for r in recs] == [["O", "O", "B-LOC"], ["B-LOC"]]
    assert [r["source"] for r in recs] == ["eng.testb:3", "eng.testb:7"]
    assert rep["crlf_normalised"] == 1 and rep["docstart_skipped"] == 1


def test_ilner_telugu_lost_prefix_junk_orphan():
    rep = Repairs()
    path = RAW / "il-ner" / "Telugu" / "Telugu-train.txt"
    recs = read_ilner(path, rep)
    assert len(recs) == 2
    assert recs[0]["tags"] == ["B-NEL", "O", "B-NEL", "I-NEL", "B-NEP", "I-NEP"]
    assert recs[1]["tags"] == ["B-NEN", "I-NEN", "B-NEL", "O", "O", "O", "O"]
    assert recs[1]["tokens"][-1] == "."  # last sentence has no trailing blank line
    assert [r["source"] for r in recs] == ["Telugu-train.txt:1", "Telugu-train.txt:8"]
    assert rep["lost_prefix_repaired"] == 4
    assert rep["orphan_I_to_B"] == 1
    assert rep["junk_tag_to_O"] == 3
    junk = rep.to_dict()["junk_tag_to_O"]["examples"]
    assert junk == ["Telugu-train.txt:11: '-doubt' -> O", "Telugu-train.txt:12: \"-''\" -> O", "Telugu-train.txt:13: '-' -> O"]
    # nothing dropped: every non-blank line is a token in the output
    n_lines = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    assert sum(len(r["tokens"]) for r in recs) == n_lines
    _assert_iob2(recs)


def test_ilner_hindi_junk_and_missing_tag():
    rep = Repairs()
    recs = read_ilner(RAW / "il-ner" / "Hindi" / "Hindi-train.txt", rep)
    assert [r["tokens"] for r in recs] == [["माँ", "रोजाना", "2014"], ["कोविड", "O", "शब्द"], ["दिल्ली", "में"]]
    assert [r["tags"] for r in recs] == [["B-NEP", "O", "B-NETI"], ["O", "O", "O"], ["B-NEL", "O"]]
    assert rep["junk_tag_to_O"] == 1
    assert rep["lost_prefix_repaired"] == 1
    assert rep["missing_tag_to_O"] == 2  # line 6 has no tab, line 7 an empty tag
    assert rep["orphan_I_to_B"] == 1
    assert rep.to_dict()["missing_tag_to_O"]["examples"][0].startswith("Hindi-train.txt:6:")
    _assert_iob2(recs)


# --------------------------------------------------------------------------- read_dataset


@pytest.mark.parametrize(
    "name, lang, sizes",
    [
        ("sst2", "en", {"train": 3, "dev": 2, "test": 2}),
        ("iitp-product-reviews", "hi", {"train": 5, "dev": 2, "test": 2}),
        ("actsa", "te", {"all": 4}),
        ("conll2003", "en", {"train": 3, "dev": 1, "test": 2}),
        ("il-ner", "hi", {"train": 3, "dev": 1, "test": 1}),
        ("il-ner", "te", {"train": 2, "dev": 1, "test": 1}),
    ],
)
def test_read_dataset_splits(name, lang, sizes):
    rep = Repairs()
    splits = read_dataset(name, lang, RAW, rep)
    assert {k: len(v) for k, v in splits.items()} == sizes
    assert ("all" in splits) == (not DATASETS[name]["official_split"])
    key = "text" if DATASETS[name]["task"] == "sentiment" else "tokens"
    assert all(key in r and "source" in r for recs in splits.values() for r in recs)


def test_datasets_table():
    assert set(DATASETS) == {"sst2", "iitp-product-reviews", "actsa", "conll2003", "il-ner"}
    assert DATASETS["il-ner"]["langs"] == ["hi", "te"]
    assert {n for n, d in DATASETS.items() if d["task"] == "ner"} == {"conll2003", "il-ner"}


def test_read_dataset_unknown_name_or_lang():
    with pytest.raises(ValueError, match="unknown dataset"):
        read_dataset("imdb", "en", RAW, Repairs())
    with pytest.raises(ValueError, match="no language 'te'"):
        read_dataset("sst2", "te", RAW, Repairs())


# --------------------------------------------------------------------------- rejected input


@pytest.mark.parametrize(
    "reader, filename, line, problem",
    [
        (read_iitp_csv, "iitp_bad_label.csv", 3, "unknown label 'happy'"),
        (read_iitp_csv, "iitp_wrong_columns.csv", 2, "expected 2 columns"),
        (read_iitp_csv, "iitp_unclosed_quote.csv", 2, "bad CSV"),
        (read_iitp_csv, "iitp_invalid_utf8.csv", 3, "invalid UTF-8"),
        (read_actsa, "actsa_bad_label.txt", 2, "unknown label '2'"),
        (read_sst2_tsv, "sst2_bad_label.tsv", 3, "unknown label 'neg'"),
        (read_sst2_tsv, "sst2_wrong_columns.tsv", 3, "expected 2 tab-separated columns"),
        (read_sst2_tsv, "sst2_no_header.tsv", 1, "expected header"),
        (read_conll2003, "conll_wrong_columns.txt", 4, "expected 4 space-separated columns"),
        (read_conll2003, "conll_unknown_tag.txt", 3, "unknown NER tag 'I-FOO'"),
        (read_ilner, "ilner_invalid_utf8.txt", 3, "invalid UTF-8"),
        (read_ilner, "ilner_three_columns.txt", 2, "expected 2 tab-separated columns"),
        (read_ilner, "ilner_empty_token.txt", 3, "empty token"),
    ],
)
def test_bad_file_names_file_and_line(reader, filename, line, problem):
    with pytest.raises(DataError) as exc:
        reader(ERRORS / filename, Repairs())
    err = exc.value
    assert isinstance(err, ValueError)
    assert f"{filename}:{line}: " in str(err)
    assert problem in str(err)
    assert err.line == line and err.path.endswith(filename) and problem in err.problem


@pytest.mark.parametrize("reader", [read_iitp_csv, read_actsa, read_sst2_tsv, read_conll2003, read_ilner])
def test_missing_file(reader):
    with pytest.raises(DataError) as exc:
        reader(RAW / "nowhere" / "missing.txt", Repairs())
    assert exc.value.line is None
    assert "missing.txt" in str(exc.value) and "file not found" in str(exc.value)


def test_missing_dataset_folder(tmp_path):
    with pytest.raises(DataError, match="train.tsv: file not found"):
        read_dataset("sst2", "en", tmp_path, Repairs())
