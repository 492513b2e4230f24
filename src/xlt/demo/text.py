"""Input checks, language detection by script, words with offsets, entities from IOB2 tags.

The demo reads one sentence. `clean()` rejects what it cannot analyse with a message a person
can act on (`InputError`, a ValueError: the CLI prints it as one line, the API answers 400):

* empty or whitespace-only text;
* more than MAX_CHARS characters (after whitespace is collapsed);
* control characters (anything in Unicode category Cc but tab, newline and carriage return,
  which are whitespace) and lone surrogates;
* text whose letters are mostly in a script other than Latin, Devanagari or Telugu.

The language is the script of most letters: Latin -> en, Devanagari -> hi, Telugu -> te
(digits, punctuation and symbols do not count), so "मैं Delhi गया" is Hindi.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

# One sentence: 99% of the six test sets' sentences are at most 364 characters (11 of 7,431 are longer).
MAX_CHARS = 400
LANG_OF_SCRIPT = {"Latin": "en", "Devanagari": "hi", "Telugu": "te"}
SCRIPT_OF_LANG = {v: k for k, v in LANG_OF_SCRIPT.items()}
LANG_NAMES = {"en": "English", "hi": "Hindi", "te": "Telugu"}
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}

# Entity types of CoNLL-2003 (English) and IL-NER (Hindi, Telugu) in words; a type not
# listed here is shown by its tag alone.
ENTITY_TYPE_NAMES = {
    "PER": "person", "LOC": "location", "ORG": "organisation", "MISC": "miscellaneous",
    "NEP": "person", "NEL": "location", "NEO": "organisation", "NEN": "number", "NETI": "time",
    "NED": "designation",
}


class InputError(ValueError):
    """Text the demo does not analyse; the message says why (and what it accepts)."""


def script_of(ch: str) -> str | None:
    """The script a letter belongs to, or None for what is not a letter (digits, punctuation,
    spaces, symbols, combining marks outside the Indic blocks)."""
    o = ord(ch)
    if 0x0900 <= o <= 0x097F or 0xA8E0 <= o <= 0xA8FF or 0x1CD0 <= o <= 0x1CFF:
        return "Devanagari" if unicodedata.category(ch)[0] in "LM" else None
    if 0x0C00 <= o <= 0x0C7F:
        return "Telugu" if unicodedata.category(ch)[0] in "LM" else None
    if not unicodedata.category(ch).startswith("L"):
        return None
    words = unicodedata.name(ch, "").split()
    if "LATIN" in words:
        return "Latin"
    if not words:
        return "unknown"
    first = words[0]
    return {"CJK": "Han (Chinese/Japanese)", "HANGUL": "Hangul (Korean)"}.get(first, first.title())


def clean(text: str, max_chars: int = MAX_CHARS) -> str:
    """The text NFC-normalised with whitespace collapsed, or InputError."""
    if not isinstance(text, str):
        raise InputError("text must be a string")
    for i, ch in enumerate(text):
        cat = unicodedata.category(ch)
        if (cat == "Cc" and ch not in _ALLOWED_CONTROLS) or cat == "Cs":
            kind = "control character" if cat == "Cc" else "invalid character (lone surrogate)"
            raise InputError(f"the text contains a {kind} U+{ord(ch):04X} at position {i}: "
                             "type or paste plain text")
    text = " ".join(unicodedata.normalize("NFC", text).split())
    if not text:
        raise InputError("the text is empty: type a sentence in English, Hindi or Telugu")
    if len(text) > max_chars:
        raise InputError(f"the text is {len(text)} characters long; the demo takes one sentence of "
                         f"at most {max_chars} characters")
    return text


def detect_language(text: str) -> tuple[str, dict[str, int]]:
    """(language code, letters per script) for cleaned text; InputError if unsupported."""
    counts = Counter(s for s in map(script_of, text) if s is not None)
    if not counts:
        raise InputError("the text has no letters: type a sentence in English, Hindi or Telugu")
    # Most letters wins; a tie goes to a supported script.
    script = max(counts, key=lambda s: (counts[s], s in LANG_OF_SCRIPT))
    if script not in LANG_OF_SCRIPT:
        raise InputError(f"unsupported script: {script} (the demo reads English in Latin script, "
                         "Hindi in Devanagari and Telugu in Telugu script)")
    return LANG_OF_SCRIPT[script], dict(counts)


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


_ABBREVIATION = re.compile(r"^(?:[^\W\d_]\.)+$")   # U.S. e.g. (kept whole, as CoNLL tokenises them)


@dataclass(frozen=True)
class Word:
    text: str
    start: int      # character offsets into the cleaned text
    end: int


def words(text: str) -> list[Word]:
    """Whitespace-separated words with leading and trailing punctuation split off (one token per
    run of the same mark), as the NER corpora are tokenised: "Delhi." -> "Delhi", ".".
    Marks inside a word stay ("don't", "e-mail"); so do abbreviations ("U.S.")."""
    out: list[Word] = []
    for m in re.finditer(r"\S+", text):
        i, j = m.span()
        if _ABBREVIATION.match(m.group()):
            out.append(Word(m.group(), i, j))
            continue
        lead: list[Word] = []
        while i < j and _is_punct(text[i]):
            k = i + 1
            while k < j and text[k] == text[i]:
                k += 1
            lead.append(Word(text[i:k], i, k))
            i = k
        trail: list[Word] = []
        while j > i and _is_punct(text[j - 1]):
            k = j - 1
            while k > i and text[k - 1] == text[j - 1]:
                k -= 1
            trail.insert(0, Word(text[k:j], k, j))
            j = k
        out.extend(lead)
        if i < j:
            out.append(Word(text[i:j], i, j))
        out.extend(trail)
    return out


def entities(text: str, ws: list[Word], tags: list[str], scores: list[float] | None = None) -> list[dict]:
    """IOB2 word tags -> entity spans with character offsets. An I- tag that does not continue an
    entity of its type starts one (as seqeval reads it). The score is the mean of the words'."""
    out: list[dict] = []
    current: dict | None = None
    for i, (w, tag) in enumerate(zip(ws, tags)):
        if tag == "O" or "-" not in tag:
            current = None
            continue
        prefix, typ = tag.split("-", 1)
        if prefix == "B" or current is None or current["type"] != typ:
            current = {"type": typ, "start": w.start, "end": w.end, "words": [i, i + 1], "_scores": []}
            out.append(current)
        else:
            current["end"] = w.end
            current["words"][1] = i + 1
        current["_scores"].append(scores[i] if scores else 1.0)
    for e in out:
        s = e.pop("_scores")
        e["text"] = text[e["start"]:e["end"]]
        e["type_name"] = ENTITY_TYPE_NAMES.get(e["type"], e["type"])
        e["score"] = round(sum(s) / len(s), 4)
    return [{k: e[k] for k in ("text", "type", "type_name", "start", "end", "words", "score")} for e in out]
