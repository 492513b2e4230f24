"""Property-based tests: every reader in xlt.data.readers on random and corrupted files.

Files are generated from known-valid records (so the expected output is known), written
with random line endings (LF, CRLF, CR, mixed), an optional byte-order mark, runs of blank
lines and an optional final newline, and then, in the corruption tests, damaged in one place
(a truncated line, a column too many or too few, invalid UTF-8, a NUL, a BOM at a line start,
a garbage line), cut short, joined with another file (`cat a b`) or given a block of NUL bytes.
The properties:

* a valid file comes back exactly: every record, its content and its `file:line` source;
* a damaged file either fails with a DataError `file:line: problem` that names the damaged
  line (for CSV: a line of the row the damage is in, as a quoted field may span lines), or
  parses with every record the damage did not touch coming back unchanged;
* no record ever holds a NUL byte or starts with a stray BOM;
* nothing but a DataError ever escapes, whatever the bytes.

Sizes and example counts are kept small so that the whole file runs in well under a minute
(XLT_FUZZ_EXAMPLES, below, searches deeper).
"""
from __future__ import annotations

import functools
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from xlt.data.readers import (
    DataError,
    Repairs,
    read_actsa,
    read_conll2003,
    read_iitp_csv,
    read_ilner,
    read_sst2_tsv,
)

# 60 examples per property, the same ones each run (derandomize: no flaky CI). For a deeper
# search: XLT_FUZZ_EXAMPLES=5000 python -m pytest tests/data/test_readers_fuzz.py (random seed).
_DEEP = os.environ.get("XLT_FUZZ_EXAMPLES")
SETTINGS = settings(max_examples=int(_DEEP or 60), deadline=None, derandomize=not _DEEP, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_TMP = tempfile.TemporaryDirectory(prefix="xlt-fuzz-")   # removed at exit
_DIR = Path(_TMP.name)


def _write(name: str, data: bytes) -> Path:
    path = _DIR / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- building blocks

@functools.cache      # strategies are built once: hypothesis validates (and reads the lambdas of) each new one
def _chars(also_not: str = ""):
    """Any character but line breaks, surrogates (which UTF-8 cannot encode), NUL and U+FEFF
    (never content of a text file: the readers treat them as damage)."""
    return st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00\ufeff" + also_not)


CHARS = _chars()
PLAIN = st.characters(min_codepoint=0x21, max_codepoint=0x7e)      # visible ASCII
INDIC = st.characters(min_codepoint=0x0900, max_codepoint=0x0C7F)  # Devanagari .. Telugu


@functools.cache
def _text(alphabet, min_size=1, max_size=20):
    """A text with at least one non-whitespace character (an empty text is skipped, by design)."""
    return st.text(st.one_of(alphabet, PLAIN, INDIC), min_size=min_size, max_size=max_size).filter(
        lambda s: s.strip())


BLANK = st.sampled_from(["", " ", "\t", "  \t "])
INVALID_UTF8 = [b"\xff", b"\xfe", b"\x80", b"\xc3", b"\xe0\xa4", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf"]


@dataclass
class Doc:
    """A generated file: its lines and, per record, what the reader must return and the
    record's first and last line (1-based)."""
    lines: list[str] = field(default_factory=list)
    records: list[tuple[dict, int, int]] = field(default_factory=list)

    def add(self, expected: dict, lines: list[str]) -> None:
        first = len(self.lines) + 1
        self.lines += lines
        self.records.append((expected, first, len(self.lines)))


@st.composite
def layout(draw, doc: Doc, blank_min: int, blank_max: int = 3) -> None:
    """Between records: a run of blank (or whitespace-only) lines."""
    doc.lines += draw(st.lists(BLANK, min_size=blank_min, max_size=blank_max))


# --------------------------------------------------------------------------- one strategy per format

SENT_LABELS = ("positive", "negative", "neutral")


@st.composite
def actsa_doc(draw) -> Doc:
    raw = {"positive": "+1", "negative": "-1", "neutral": "0"}
    doc = Doc()
    for _ in range(draw(st.integers(0, 6))):
        draw(layout(doc, 0))
        label = draw(st.sampled_from(SENT_LABELS))
        text = draw(_text(CHARS))
        sep = draw(st.sampled_from([" ", "\t", "   ", " \t"]))
        lead = draw(st.sampled_from(["", " "]))
        doc.add({"text": text.strip(), "label": label}, [f"{lead}{raw[label]}{sep}{text}"])
    draw(layout(doc, 0))
    return doc


@st.composite
def sst2_doc(draw) -> Doc:
    raw = {"positive": "1", "negative": "0"}
    doc = Doc(lines=[draw(st.sampled_from(["sentence\tlabel", "sentence \tlabel ", " sentence\t label"]))])
    no_tab = _chars("\t")
    for _ in range(draw(st.integers(0, 6))):
        draw(layout(doc, 0))
        label = draw(st.sampled_from(["positive", "negative"]))
        text = draw(_text(no_tab))
        doc.add({"text": text.strip(), "label": label}, [f"{text}\t{raw[label]}{draw(st.sampled_from(['', ' ']))}"])
    draw(layout(doc, 0))
    return doc


def _csv_field(text: str, force_quotes: bool) -> str:
    if force_quotes or any(c in text for c in ',"\n') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


WITH_BREAKS = st.one_of(CHARS, st.sampled_from([",", '"', "\n", " "]))


@st.composite
def iitp_doc(draw) -> Doc:
    doc = Doc()
    for _ in range(draw(st.integers(0, 6))):
        draw(layout(doc, 0))
        label = draw(st.sampled_from(SENT_LABELS))
        text = draw(_text(WITH_BREAKS))
        row = f"{label},{_csv_field(text, draw(st.booleans()))}"
        doc.add({"text": text.strip(), "label": label}, row.split("\n"))
    draw(layout(doc, 0))
    return doc


@st.composite
def iob2_tags(draw, n: int, types: list[str]) -> list[str]:
    tags: list[str] = []
    for _ in range(n):
        prev = tags[-1][2:] if tags and tags[-1] != "O" else None
        choices = ["O"] + [f"B-{t}" for t in types] + ([f"I-{prev}"] * 3 if prev else [])
        tags.append(draw(st.sampled_from(choices)))
    return tags


NO_SPACE = st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"), blacklist_characters="\ufeff").filter(
    lambda c: not c.isspace())


CONLL_TOKEN = st.text(st.one_of(NO_SPACE, PLAIN), min_size=1, max_size=8).filter(lambda t: t != "-DOCSTART-")
ILNER_TOKEN = st.text(st.one_of(_chars("\t"), INDIC), min_size=1, max_size=8).filter(lambda t: t.strip())


@st.composite
def conll_doc(draw) -> Doc:
    doc = Doc()
    token = CONLL_TOKEN
    for _ in range(draw(st.integers(0, 4))):
        draw(layout(doc, 1 if doc.lines else 0))
        if draw(st.booleans()):   # a document boundary, with or without a blank line after it
            doc.lines.append("-DOCSTART- -X- -X- O")
            draw(layout(doc, 0, 2))
        n = draw(st.integers(1, 5))
        tokens = draw(st.lists(token, min_size=n, max_size=n))
        tags = draw(iob2_tags(n, ["PER", "ORG", "LOC", "MISC"]))
        sep = draw(st.sampled_from([" ", "\t", "  "]))
        doc.add({"tokens": tokens, "tags": tags},
                [sep.join([tok, draw(st.sampled_from(["NNP", "VB", '"', "."])), "I-NP", tag])
                 for tok, tag in zip(tokens, tags)])
    draw(layout(doc, 0))
    return doc


@st.composite
def ilner_doc(draw) -> Doc:
    doc = Doc()
    token = ILNER_TOKEN
    for _ in range(draw(st.integers(0, 4))):
        draw(layout(doc, 1 if doc.lines else 0))
        n = draw(st.integers(1, 5))
        tokens = draw(st.lists(token, min_size=n, max_size=n))
        tags = draw(iob2_tags(n, ["NEP", "NEL", "NEO", "NEN", "NETI", "NEAR", "NEU", "NED"]))
        pad = draw(st.sampled_from(["", " "]))
        doc.add({"tokens": [t.strip() for t in tokens], "tags": tags},
                [f"{tok}\t{pad}{tag}{pad}" for tok, tag in zip(tokens, tags)])
    draw(layout(doc, 0))
    return doc


@dataclass(frozen=True)
class Format:
    reader: object
    doc: object            # strategy of Doc
    separators: tuple      # column separators a "wrong column count" corruption adds or removes
    csv: bool = False      # a damaged row may be reported at its first line
    sentences: bool = False  # records are runs of lines ended by a blank line


FORMATS = {
    "actsa": Format(read_actsa, actsa_doc(), (" ", "\t")),
    "sst2": Format(read_sst2_tsv, sst2_doc(), ("\t",)),
    "iitp": Format(read_iitp_csv, iitp_doc(), (",",), csv=True),
    "conll2003": Format(read_conll2003, conll_doc(), (" ", "\t"), sentences=True),
    "ilner": Format(read_ilner, ilner_doc(), ("\t",), sentences=True),
}


# --------------------------------------------------------------------------- encoding

ENDINGS = ["\n", "\r\n", "\r"]


@st.composite
def encoding(draw, n_lines: int) -> tuple[list[str], bool, bool]:
    """Per-line endings (one style or mixed), a BOM or not, a final line ending or not."""
    if draw(st.booleans()):
        endings = [draw(st.sampled_from(ENDINGS))] * n_lines
    else:
        endings = draw(st.lists(st.sampled_from(ENDINGS), min_size=n_lines, max_size=n_lines))
    return endings, draw(st.booleans()), draw(st.booleans())


def encode(lines: list[bytes], endings: list[str], bom: bool, final_newline: bool) -> bytes:
    endings = list(endings)
    # "\r" then an empty line ended by "\n" would read as one "\r\n": keep the line count.
    for i in range(len(lines) - 1):
        if endings[i] == "\r" and lines[i + 1] == b"" and endings[i + 1] == "\n":
            endings[i + 1] = "\r"
    out = b"\xef\xbb\xbf" if bom else b""
    for i, line in enumerate(lines):
        last = i == len(lines) - 1
        out += line + (endings[i].encode() if not last or final_newline else b"")
    return out


@st.composite
def encoded(draw, lines: list[str] | list[bytes]) -> tuple[bytes, bool]:
    """LINES as a file's bytes with drawn endings, BOM and final line ending (`encoding`),
    and whether it starts with the BOM."""
    endings, bom, final = draw(encoding(len(lines)))
    return encode([line.encode() if isinstance(line, str) else line for line in lines], endings, bom, final), bom


# --------------------------------------------------------------------------- checks

def _read(fmt: Format, path: Path):
    """The reader's records, or its DataError (checked for the `file:line: problem` form)."""
    try:
        records = fmt.reader(path, Repairs())
    except DataError as e:
        assert isinstance(e.line, int) and e.line >= 1, str(e)
        assert re.fullmatch(rf"{re.escape(str(path))}:{e.line}: \S.*", str(e), re.S), str(e)
        assert e.problem and "Traceback" not in str(e)
        return None, e
    # anything else propagates and fails the test
    for r in records:   # what comes back is text, not damage
        strings = [r.get("text", ""), r.get("label", ""), *r.get("tokens", []), *r.get("tags", [])]
        assert not any("\x00" in x for x in strings), f"NUL byte in a record: {r}"
        assert not any(x.startswith("\ufeff") for x in strings), f"byte order mark in a record: {r}"
    return records, None


def _assert_subsequence(expected: list[dict], got: list[dict]) -> None:
    it = iter(got)
    for want in expected:
        assert any(r == want for r in it), f"record lost or changed: {want}\ngot: {got}"


def _expected(doc: Doc, name: str, skip=lambda first, last: False) -> list[dict]:
    return [{**rec, "source": f"{name}:{first}"} for rec, first, last in doc.records if not skip(first, last)]


# --------------------------------------------------------------------------- properties

@pytest.mark.parametrize("name", list(FORMATS))
def test_valid_file_comes_back_whole(name):
    fmt = FORMATS[name]

    @SETTINGS
    @given(data=st.data())
    def run(data):
        doc = data.draw(fmt.doc)
        path = _write(f"{name}.txt", data.draw(encoded(doc.lines))[0])
        records, err = _read(fmt, path)
        assert err is None, f"valid file rejected: {err}\n{path.read_bytes()!r}"
        assert records == _expected(doc, path.name), path.read_bytes()

    run()


CORRUPTIONS = ["truncate", "drop_separator", "extra_column", "invalid_utf8", "nul", "garbage_line", "bom"]


@st.composite
def corrupted(draw, fmt: Format) -> tuple[Doc, list[bytes], int, str]:
    """A valid document damaged at one line; returns it with the damaged line (1-based) and the damage."""
    doc = draw(fmt.doc)
    lines = [line.encode() for line in doc.lines]
    assume(lines)
    i = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.sampled_from(CORRUPTIONS))
    line = lines[i]
    if kind == "truncate":
        assume(line)
        lines[i] = line[:draw(st.integers(0, len(line) - 1))]   # may split a UTF-8 character
    elif kind == "drop_separator":
        seps = [j for j, b in enumerate(line) if bytes([b]).decode("latin-1") in fmt.separators]
        assume(seps)
        j = draw(st.sampled_from(seps))
        lines[i] = line[:j] + line[j + 1:]
    elif kind == "extra_column":
        sep = draw(st.sampled_from(fmt.separators)).encode()
        lines[i] = line + sep + draw(st.text(PLAIN, min_size=1, max_size=5)).encode()
    elif kind == "bom":   # a byte order mark at a line start: files joined with `cat`
        lines[i] = b"\xef\xbb\xbf" + line
    elif kind in ("invalid_utf8", "nul"):
        j = draw(st.integers(0, len(line)))
        bad = draw(st.sampled_from(INVALID_UTF8)) if kind == "invalid_utf8" else b"\x00"
        lines[i] = line[:j] + bad + line[j:]
    else:  # a line of garbage inserted before line i
        lines.insert(i, draw(st.text(st.one_of(CHARS, st.sampled_from(fmt.separators)), max_size=15)).encode())
        doc.records = [(rec, f + (f > i), last + (last >= i + 1)) for rec, f, last in doc.records]
    return doc, lines, i + 1, kind


def _touched(line: int):
    """Records whose lines include or border the damaged line (a damaged line can join or
    split the records next to it); every other record must come back unchanged."""
    return lambda first, last: first - 1 <= line <= last + 1


@pytest.mark.parametrize("name", list(FORMATS))
def test_damaged_file_fails_at_the_damage_or_keeps_every_other_record(name):
    fmt = FORMATS[name]

    @SETTINGS
    @given(data=st.data())
    def run(data):
        doc, lines, bad, kind = data.draw(corrupted(fmt))
        path = _write(f"{name}.txt", data.draw(encoded(lines))[0])
        records, err = _read(fmt, path)
        if kind == "bom":   # nothing is lost to a stray BOM: stripped (every record exact) or rejected there
            assert err.line == bad if err else records == _expected(doc, path.name), (str(err), records)
        elif err is not None:
            if fmt.csv:   # a CSV row may span lines: the error is within the damaged row
                rows = [range(first, last + 2) for _, first, last in doc.records if first - 1 <= bad <= last + 1]
                assert err.line == bad or any(err.line in r for r in rows), (str(err), bad, path.read_bytes())
            else:
                assert err.line == bad, (str(err), bad, path.read_bytes())
        else:
            _assert_subsequence(_expected(doc, path.name, _touched(bad)), records)

    run()


@pytest.mark.parametrize("name", list(FORMATS))
def test_file_cut_short(name):
    """A download or copy that stopped part-way: complete records before the cut survive."""
    fmt = FORMATS[name]

    @SETTINGS
    @given(data=st.data())
    def run(data):
        doc = data.draw(fmt.doc)
        full, _ = data.draw(encoded(doc.lines))
        cut = data.draw(st.integers(0, len(full)))
        path = _write(f"{name}.txt", full[:cut])
        records, err = _read(fmt, path)
        body = full[:cut].removeprefix(b"\xef\xbb\xbf")
        partial = len(body.splitlines())   # the last, possibly incomplete, line
        if err is not None:
            if fmt.csv:   # an unclosed quote is reported at the first line of its row
                assert err.line <= max(partial, 1), (str(err), full[:cut])
            else:
                assert err.line == max(partial, 1), (str(err), full[:cut])
        else:
            _assert_subsequence(_expected(doc, path.name, lambda first, last: last + 1 >= partial), records)

    run()


@pytest.mark.parametrize("name", list(FORMATS))
def test_concatenated_files(name):
    """`cat a b`: two valid files, each with its own BOM. Every record of both comes back
    (the second file's BOM stripped), or the error names the first line of the second file."""
    fmt = FORMATS[name]

    @SETTINGS
    @given(data=st.data())
    def run(data):
        first, second = data.draw(fmt.doc), data.draw(fmt.doc)
        assume(first.lines and second.lines)
        if fmt.sentences:   # the last sentence of `a` needs a blank line to end before `b`'s first
            first.lines.append("")
        parts = []
        for doc in (first, second):
            endings, _, _ = data.draw(encoding(len(doc.lines)))
            parts.append(encode([line.encode() for line in doc.lines], endings, True, True))
        path = _write(f"{name}.txt", b"".join(parts))
        records, err = _read(fmt, path)
        join = len(first.lines) + 1
        if err is not None:
            assert err.line == join, (str(err), join)
        else:
            shifted = Doc(second.lines, [(r, f + join - 1, last + join - 1) for r, f, last in second.records])
            assert records == _expected(first, path.name) + _expected(shifted, path.name)

    run()


@pytest.mark.parametrize("name", list(FORMATS))
def test_zero_filled_block(name):
    """A block of NUL bytes, as a crash or a failed copy leaves in a file: rejected at the
    first damaged line, never read as text."""
    fmt = FORMATS[name]

    @SETTINGS
    @given(data=st.data())
    def run(data):
        doc = data.draw(fmt.doc)
        full, bom = data.draw(encoded(doc.lines))
        assume(full)
        start = data.draw(st.integers(0, len(full) - 1))
        end = data.draw(st.integers(start + 1, min(len(full), start + 24)))
        path = _write(f"{name}.txt", full[:start] + b"\x00" * (end - start) + full[end:])
        records, err = _read(fmt, path)
        assert err is not None, records
        before = full[3 if bom else 0:max(start, 3 if bom else 0)]   # the bytes before the block, no BOM
        damaged = len(before.splitlines()) + (not before or before.endswith((b"\n", b"\r")))
        assert err.line == damaged, (str(err), damaged, path.read_bytes())

    run()


@pytest.mark.parametrize("name", list(FORMATS))
def test_random_bytes_never_raise_anything_but_data_error(name):
    fmt = FORMATS[name]
    pieces = st.one_of(st.binary(max_size=8), st.sampled_from([b"\r", b"\n", b"\r\n", b"\xef\xbb\xbf", b"\t", b",",
                                                               b'"', b" ", b"+1", b"B-", b"I-", b"O", b"-"]),
                       st.text(max_size=6).map(lambda s: s.encode("utf-8", "surrogatepass")))

    @SETTINGS
    @given(data=st.lists(pieces, max_size=30).map(b"".join))
    def run(data):
        path = _write(f"{name}.bin", data)
        records, err = _read(fmt, path)
        if err is None:
            assert isinstance(records, list)
            for r in records:
                assert re.fullmatch(rf"{re.escape(path.name)}:\d+", r["source"])

    run()


@pytest.mark.parametrize("name", list(FORMATS))
@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n", b"\r\n\r\n", b"\r\r\r", b" \t \n\n\n", b"\xef\xbb\xbf\r\n"])
def test_empty_or_blank_file(name, data):
    fmt = FORMATS[name]
    records, err = _read(fmt, _write(f"{name}.empty", data))
    if name == "sst2":   # the header is required
        assert err is not None and err.line == 1 and "header" in err.problem
    else:
        assert err is None and records == []
