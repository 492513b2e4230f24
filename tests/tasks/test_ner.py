"""Tests for xlt.tasks.ner: subword label alignment, label list, decoding, entity-level scores."""
import numpy as np
import pytest
from seqeval.metrics import f1_score, precision_score, recall_score

from xlt.tasks import ner

IGNORE = -100


# --------------------------------------------------------------------------- align_labels, by hand

def test_align_labels_hand_made_word_ids():
    # <s> w0 w1 w1 w1 w2 w3 w3 </s> <pad>
    word_ids = [None, 0, 1, 1, 1, 2, 3, 3, None, None]
    labels = [5, 1, 0, 2]
    assert ner.align_labels(word_ids, labels) == [IGNORE, 5, 1, IGNORE, IGNORE, 0, 2, IGNORE, IGNORE, IGNORE]


def test_align_labels_label_zero_is_kept_not_ignored():
    assert ner.align_labels([None, 0, 1, None], [0, 0]) == [IGNORE, 0, 0, IGNORE]


def test_align_labels_only_specials():
    assert ner.align_labels([None, None], [3]) == [IGNORE, IGNORE]


def test_align_labels_truncated_sentence_labels_only_seen_words():
    # Truncation cut words 2 and 3 off: only words 0 and 1 are labelled.
    out = ner.align_labels([None, 0, 0, 1, None], [4, 3, 2, 1])
    assert [x for x in out if x != IGNORE] == [4, 3]


# --------------------------------------------------------------------------- align_labels, real tokenizer

@pytest.fixture(scope="module")
def tokenizer():
    from xlt.encoders import me5_tokenizer
    return me5_tokenizer()


SENTENCES = {
    "en": ["John", "Smith", "visited", "Londonderry", "yesterday", "."],
    "hi": ["प्रधानमंत्री", "नरेंद्र", "मोदी", "ने", "वाराणसी", "का", "दौरा", "किया", "।"],
    "te": ["రాముడు", "హైదరాబాద్", "లో", "ఉంటాడు", "."],
    # Words a tokenizer might drop or split oddly: zero-width joiner, soft hyphen, digits.
    "odd": ["a", "\u200d", "क्\u200dष", "\u00ad", "2024"],
}


@pytest.mark.parametrize("lang", list(SENTENCES))
def test_align_labels_with_real_tokenizer(tokenizer, lang):
    words = SENTENCES[lang]
    word_labels = [i + 1 for i in range(len(words))]  # distinct label per word
    enc = tokenizer(words, is_split_into_words=True)
    word_ids = enc.word_ids()
    labels = ner.align_labels(word_ids, word_labels)
    assert len(labels) == len(enc["input_ids"])
    labelled = [i for i, x in enumerate(labels) if x != IGNORE]
    # One labelled position per word, in word order, each the word's first piece.
    assert len(labelled) == len(words)
    assert [labels[i] for i in labelled] == word_labels
    for w, pos in enumerate(labelled):
        assert word_ids[pos] == w
        assert word_ids.index(w) == pos
    # Specials (<s>, </s>) are never labelled.
    assert labels[0] == IGNORE and labels[-1] == IGNORE


def test_real_tokenizer_splits_some_words(tokenizer):
    # Guard that the test above exercises continuations at all.
    for lang in ("en", "te"):
        enc = tokenizer(SENTENCES[lang], is_split_into_words=True)
        assert len(enc["input_ids"]) > len(SENTENCES[lang]) + 2, lang


def test_encode_aligns_labels_and_truncates(tokenizer):
    records = [{"tokens": SENTENCES["en"], "tags": ["B-PER", "I-PER", "O", "B-LOC", "O", "O"]},
               {"tokens": SENTENCES["te"], "tags": ["B-PER", "B-LOC", "O", "O", "O"]}]
    label2id = {"O": 0, "B-LOC": 1, "I-LOC": 2, "B-PER": 3, "I-PER": 4}
    ds = ner.encode(records, tokenizer, label2id, max_length=128)
    assert [[x for x in row if x != IGNORE] for row in ds["labels"]] == [[3, 4, 0, 1, 0, 0], [3, 1, 0, 0, 0]]
    short = ner.encode(records, tokenizer, label2id, max_length=5)
    assert all(len(row) <= 5 for row in short["input_ids"])
    assert [x for x in short["labels"][0] if x != IGNORE] == [3, 4, 0]


def test_encode_unseen_tag_trained_as_o(tokenizer):
    ds = ner.encode([{"tokens": ["Ram", "Delhi"], "tags": ["B-PER", "B-MISC"]}], tokenizer,
                    {"O": 0, "B-PER": 1, "I-PER": 2}, max_length=32)
    assert [x for x in ds["labels"][0] if x != IGNORE] == [1, 0]


# --------------------------------------------------------------------------- label_list

def test_label_list_o_first_then_b_i_per_type_sorted():
    recs = [{"tokens": list("abc"), "tags": ["B-PER", "O", "B-LOC"]},
            {"tokens": list("ab"), "tags": ["B-ORG", "I-ORG"]}]
    assert ner.label_list(recs) == ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]


def test_label_list_without_entities():
    assert ner.label_list([{"tokens": ["a"], "tags": ["O"]}]) == ["O"]


# --------------------------------------------------------------------------- decode

def _logits_for(label_rows, n_labels, width):
    """Logits whose argmax at each position is the given label id (0 where unspecified)."""
    logits = np.zeros((len(label_rows), width, n_labels), dtype=np.float32)
    for i, row in enumerate(label_rows):
        for j, lab in enumerate(row):
            logits[i, j, lab] = 5.0
    return logits


def test_decode_reads_first_subwords_and_pads_truncated_words(tokenizer):
    id2label = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
    label2id = {v: k for k, v in id2label.items()}
    records = [{"tokens": SENTENCES["en"], "tags": ["B-PER", "I-PER", "O", "B-LOC", "O", "O"]},
               {"tokens": ["Ram", "Delhi"], "tags": ["B-PER", "B-LOC"]}]
    encoded = ner.encode(records, tokenizer, label2id, max_length=6)  # cuts the first sentence
    width = max(len(r) for r in encoded["input_ids"])
    # Predict, at each position, what the encoded label says (ignored positions: I-LOC, which
    # must never reach the output).
    rows = [[4 if x == IGNORE else x for x in row] for row in encoded["labels"]]
    logits = _logits_for(rows, len(id2label), width)
    out = ner.decode(logits, encoded, id2label, records)
    n_seen = sum(1 for x in encoded["labels"][0] if x != IGNORE)
    assert 0 < n_seen < len(SENTENCES["en"])
    assert out[0] == records[0]["tags"][:n_seen] + ["O"] * (len(SENTENCES["en"]) - n_seen)
    assert out[1] == ["B-PER", "B-LOC"]
    assert [len(p) for p in out] == [len(r["tokens"]) for r in records]


def test_dev_metrics_on_logits():
    id2label = {0: "O", 1: "B-PER", 2: "I-PER"}
    labels = np.array([[IGNORE, 1, 2, IGNORE, 0, IGNORE],
                       [IGNORE, 0, 1, IGNORE, IGNORE, IGNORE]])
    # Sentence 1 predicted right; sentence 2 misses its PER.
    pred = np.array([[0, 1, 2, 0, 0, 0],
                     [0, 0, 0, 1, 1, 1]])
    logits = np.eye(3)[pred]
    m = ner.dev_metrics((logits, labels), id2label)
    assert m == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3})


# --------------------------------------------------------------------------- scores

GOLD = [["B-PER", "I-PER", "O", "B-LOC", "O"],
        ["B-ORG", "I-ORG", "I-ORG", "O"],
        ["O", "B-LOC", "O"]]
PRED = [["B-PER", "I-PER", "O", "B-LOC", "O"],   # PER hit, LOC hit
        ["B-ORG", "I-ORG", "O", "O"],            # ORG half-matched: a miss (and a false positive)
        ["O", "O", "B-PER"]]                     # LOC missed, spurious PER


def test_scores_hand_computed():
    s = ner.scores(GOLD, PRED)
    # gold entities 4 (PER, LOC, ORG, LOC); predicted 4 (PER, LOC, ORG[0:2], PER); correct 2.
    assert s["precision"] == pytest.approx(2 / 4)
    assert s["recall"] == pytest.approx(2 / 4)
    assert s["f1"] == pytest.approx(0.5)
    assert s["n"] == 3


def test_scores_match_seqeval():
    s = ner.scores(GOLD, PRED)
    assert s["precision"] == pytest.approx(precision_score(GOLD, PRED))
    assert s["recall"] == pytest.approx(recall_score(GOLD, PRED))
    assert s["f1"] == pytest.approx(f1_score(GOLD, PRED))


def test_scores_per_type():
    s = ner.scores(GOLD, PRED)
    assert set(s["per_type"]) == {"PER", "LOC", "ORG"}
    per = s["per_type"]
    assert per["LOC"] == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2})
    assert per["PER"] == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1})
    assert per["ORG"] == pytest.approx({"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1})


def test_scores_are_entity_level_not_token_level():
    gold = [["B-PER", "I-PER", "I-PER", "O"]]
    pred = [["B-PER", "I-PER", "O", "O"]]  # 3 of 4 tokens right, the entity wrong
    s = ner.scores(gold, pred)
    assert s["f1"] == 0.0 and s["precision"] == 0.0 and s["recall"] == 0.0


def test_scores_perfect_and_empty_predictions():
    assert ner.scores(GOLD, GOLD)["f1"] == pytest.approx(1.0)
    s = ner.scores(GOLD, [["O"] * len(g) for g in GOLD])
    assert s["f1"] == 0.0 and s["recall"] == 0.0
