"""Input checks, language by script, words with offsets, IOB2 -> entities."""
from __future__ import annotations

import re

import pytest

from xlt.demo import text
from xlt.demo.text import InputError, Word


@pytest.mark.parametrize("raw, expected", [
    ("  Ravi   lives\tin\nDelhi. ", "Ravi lives in Delhi."),
    ("क\u093f", "कि"),                                    # NFC leaves Devanagari sequences alone
    ("cafe\u0301", "café"),                               # combining accent composed (NFC)
    ("ప్రభుత్వం", "ప్రభుత్వం"),
    ("क्\u200dष", "क्\u200dष"),                           # zero-width joiner (Cf) is text, kept
])
def test_clean_normalises(raw, expected):
    assert text.clean(raw) == expected


@pytest.mark.parametrize("raw, message", [
    ("", "empty"),
    ("   \t\n ", "empty"),
    ("x" * (text.MAX_CHARS + 1), f"at most {text.MAX_CHARS} characters"),
    ("Ravi\x00 lives", "control character U+0000 at position 4"),
    ("bell\x07", "control character U+0007"),
    ("esc \x1b[31mred", "control character U+001B"),
    ("del\x7f", "control character U+007F"),
    ("bad \ud800 surrogate", "lone surrogate"),
])
def test_clean_rejects(raw, message):
    with pytest.raises(InputError, match=re.escape(message)):
        text.clean(raw)


def test_length_limit_counts_collapsed_text():
    assert text.clean("a" * text.MAX_CHARS + "      ") == "a" * text.MAX_CHARS
    assert len(text.clean(" ".join(["ab"] * 133))) == 398


@pytest.mark.parametrize("sentence, lang", [
    ("Ravi lives in Delhi.", "en"),
    ("Café déjà vu in São Paulo", "en"),
    ("रवि दिल्ली में रहता है।", "hi"),
    ("रवि ने 2014 में Delhi देखा", "hi"),                 # mostly Devanagari letters
    ("రవి హైదరాబాద్ లో ఉన్నాడు", "te"),
    ("I watched బాహుబలి", "en"),                          # 8 Latin letters vs 6 Telugu
])
def test_language_by_script(sentence, lang):
    assert text.detect_language(sentence)[0] == lang


@pytest.mark.parametrize("sentence, script", [
    ("你好，世界", "Han"),
    ("Привет, мир", "Cyrillic"),
    ("مرحبا بالعالم", "Arabic"),
    ("வணக்கம் உலகம்", "Tamil"),
])
def test_unsupported_script(sentence, script):
    with pytest.raises(InputError, match=f"unsupported script: {script}.*English in Latin script"):
        text.detect_language(sentence)


def test_no_letters():
    with pytest.raises(InputError, match="no letters"):
        text.detect_language("123 !!! 456")


def _texts(ws):
    return [w.text for w in ws]


@pytest.mark.parametrize("sentence, expected", [
    ("Ravi lives in Delhi.", ["Ravi", "lives", "in", "Delhi", "."]),
    ('"Hello," she said...', ['"', "Hello", ",", '"', "she", "said", "..."]),
    ("The U.S. and don't e-mail", ["The", "U.S.", "and", "don't", "e-mail"]),
    ("रवि दिल्ली में रहता है।", ["रवि", "दिल्ली", "में", "रहता", "है", "।"]),
    ("చూశాడు, చాలా బాగుంది.", ["చూశాడు", ",", "చాలా", "బాగుంది", "."]),
    ("(₹500)", ["(", "₹", "500", ")"]),
])
def test_words(sentence, expected):
    ws = text.words(sentence)
    assert _texts(ws) == expected
    assert all(sentence[w.start:w.end] == w.text for w in ws)


def test_entities_from_iob2():
    s = "Sita works for Infosys in New Delhi ."
    ws = text.words(s)
    tags = ["B-PER", "O", "O", "B-ORG", "O", "B-LOC", "I-LOC", "O"]
    ents = text.entities(s, ws, tags, [0.9, 1, 1, 0.8, 1, 0.6, 0.8, 1])
    assert [(e["text"], e["type"], e["type_name"]) for e in ents] == [
        ("Sita", "PER", "person"), ("Infosys", "ORG", "organisation"), ("New Delhi", "LOC", "location")]
    assert ents[2]["start"] == s.index("New") and ents[2]["end"] == s.index(" .")
    assert ents[2]["words"] == [5, 7] and ents[2]["score"] == pytest.approx(0.7)


def test_entities_orphan_i_and_type_change_start_new_entities():
    s = "a b c d"
    ws = text.words(s)
    ents = text.entities(s, ws, ["I-NEP", "I-NEL", "B-NETI", "I-NETI"])
    assert [(e["text"], e["type"]) for e in ents] == [("a", "NEP"), ("b", "NEL"), ("c d", "NETI")]
    assert ents[2]["type_name"] == "time"


def test_unknown_entity_type_is_shown_by_its_tag():
    ents = text.entities("x", [Word("x", 0, 1)], ["B-NEAR"])
    assert ents[0]["type_name"] == "NEAR"
