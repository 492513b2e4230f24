"""Readers for the raw public datasets under data/raw/ (one function per format).

Every reader turns one raw file into canonical records:

* sentiment: ``{"text": str, "label": "positive"|"neutral"|"negative", "source": "file:line"}``
* NER:       ``{"tokens": [str], "tags": [IOB2 str], "source": "file:line"}``

``source`` names the file and the 1-based line of the record's first line, so any
later problem (a weird prediction, a dropped example) can be traced to the raw text.

Dirty input is handled explicitly, in one of two ways:

* repaired or skipped, and counted in a :class:`Repairs` (kind, count, a few examples)
  so the data report can say exactly what was changed;
* rejected with a :class:`DataError` naming the file, the line and the problem,
  when the file cannot be read sensibly (unknown label, wrong column count, invalid
  UTF-8, missing file). No bare ``csv.Error``/``UnicodeDecodeError`` ever escapes.

Normalisation that is not counted, because it changes no content: surrounding
whitespace of texts, tokens and tags is stripped (SST-2 ends every sentence with a
space), and blank lines between records/sentences are separators, not data.

Counted on every format (see ``_read_lines``): ``bom_stripped`` (once per file, and once
per line inside it that starts with a BOM, as files joined with ``cat`` have) and
``crlf_normalised`` (once per file that uses \\r\\n or bare \\r line endings). A NUL byte
(binary or zero-filled data) is a DataError, like invalid UTF-8.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from xlt.catalog import DATASETS
from xlt.io import DataError

__all__ = [
    "DataError",
    "Repairs",
    "read_iitp_csv",
    "read_actsa",
    "read_sst2_tsv",
    "read_conll2003",
    "read_ilner",
    "read_dataset",
    "DATASETS",
    "raw_data_problems",
    "require_raw_data",
]


# --------------------------------------------------------------------------- errors


# DataError lives in xlt.io (the translation readers raise it too, without loading these readers).


# --------------------------------------------------------------------------- repairs


class Repairs:
    """Counts what a reader repaired or skipped, with a few examples per kind, for the data report."""

    MAX_EXAMPLES = 5

    def __init__(self):
        self._counts: dict[str, int] = {}
        self._examples: dict[str, list[str]] = {}

    def add(self, kind: str, path, line: int | None, detail: str = "") -> None:
        self._counts[kind] = self._counts.get(kind, 0) + 1
        examples = self._examples.setdefault(kind, [])
        if len(examples) < self.MAX_EXAMPLES:
            where = Path(path).name if line is None else f"{Path(path).name}:{line}"
            examples.append(f"{where}: {detail}" if detail else where)

    def merge(self, other: "Repairs") -> "Repairs":
        """Add another Repairs' counts and examples into this one (returns self)."""
        for kind, n in other._counts.items():
            self._counts[kind] = self._counts.get(kind, 0) + n
            mine = self._examples.setdefault(kind, [])
            mine.extend(other._examples[kind][: self.MAX_EXAMPLES - len(mine)])
        return self

    def __getitem__(self, kind: str) -> int:
        """Count of one kind; 0 for a kind never seen (so tests and reports need no guard)."""
        return self._counts.get(kind, 0)

    def __contains__(self, kind: str) -> bool:
        return kind in self._counts

    def __len__(self) -> int:
        return len(self._counts)

    def kinds(self) -> list[str]:
        return sorted(self._counts)

    def total(self) -> int:
        return sum(self._counts.values())

    def to_dict(self) -> dict:
        return {
            kind: {"count": self._counts[kind], "examples": list(self._examples[kind])}
            for kind in sorted(self._counts)
        }

    def __repr__(self) -> str:
        return f"Repairs({ {k: self._counts[k] for k in sorted(self._counts)} })"


# --------------------------------------------------------------------------- shared line reading


_BOM = b"\xef\xbb\xbf"


def _read_lines(path, repairs: Repairs) -> list[str]:
    """Read a text file as a list of lines (no terminators), line i at index i-1.

    Bytes are read and decoded line by line so that invalid UTF-8 is reported at the
    line where decoding fails, not as an offset into the whole file. Splitting bytes
    on \\n and \\r is safe: in UTF-8 those bytes never occur inside a multi-byte character.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, None, "file not found") from None
    except OSError as e:  # a directory, no permission, ...
        raise DataError(path, None, f"cannot read file ({e.strerror or e})") from None

    if data.startswith(_BOM):
        data = data[len(_BOM):]
        repairs.add("bom_stripped", path, 1, "UTF-8 byte order mark removed")

    if b"\r" in data:
        # Counted once per file: the ending style is a property of the file, and a
        # per-line count would just repeat the line count (ACTSA: 5,409).
        n = data.count(b"\r")
        repairs.add("crlf_normalised", path, None, f"{n} \\r / \\r\\n line endings -> \\n")

    # bytes.splitlines splits on \n, \r\n and \r only (unlike str.splitlines, which also
    # splits on \x0b, \x1c, U+2028 ... and would shift line numbers).
    lines = []
    for lineno, raw in enumerate(data.splitlines(), start=1):
        if raw.startswith(_BOM):
            # A BOM inside the file (files joined with `cat`) is never content: without this a
            # CoNLL "-DOCSTART-" after it would become a token, an IL-NER token would carry it.
            raw = raw[len(_BOM):]
            repairs.add("bom_stripped", path, lineno, "UTF-8 byte order mark inside the file removed")
        if b"\x00" in raw:
            # Text never holds NUL; runs of them are what a crash or a failed copy leaves behind.
            raise DataError(path, lineno, f"NUL byte at byte {raw.index(0)} of the line (binary or zero-filled data, not text)")
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise DataError(path, lineno, f"invalid UTF-8 at byte {e.start} of the line: {raw[e.start:e.start + 4]!r}") from None
    return lines


def _source(path, line: int) -> str:
    return f"{Path(path).name}:{line}"


# --------------------------------------------------------------------------- sentiment


def _sentiment_record(path, lineno, text, label, repairs, records) -> None:
    """Append one sentiment record, or skip and count it when the text is empty."""
    text = text.strip()
    if not text:
        # An empty text carries no signal; one bad row should not make the file unreadable.
        repairs.add("empty_text_skipped", path, lineno, f"label {label}")
        return
    records.append({"text": text, "label": label, "source": _source(path, lineno)})


_IITP_LABELS = {"positive", "neutral", "negative"}


def read_iitp_csv(path, repairs: Repairs) -> list[dict]:
    """IITP Product Reviews (Hindi): CSV, no header, ``label,text``; text may hold commas and quotes."""
    lines = _read_lines(path, repairs)
    # Lines go back in with their "\n" so a quoted field spanning lines keeps its line
    # break; strict: a stray quote is an error, not a silent merge of two fields.
    reader = csv.reader((line + "\n" for line in lines), strict=True)
    records = []
    start = 1  # first line of the row about to be read (a quoted field can span lines)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise DataError(path, start, f"bad CSV: {e}") from None
        lineno, start = start, reader.line_num + 1
        if not row or (len(row) == 1 and not row[0].strip()):
            repairs.add("blank_line_skipped", path, lineno)
            continue
        if len(row) != 2:
            raise DataError(path, lineno, f"expected 2 columns (label,text), got {len(row)}")
        label = row[0].strip()
        if label not in _IITP_LABELS:
            raise DataError(path, lineno, f"unknown label {row[0]!r} (expected one of {sorted(_IITP_LABELS)})")
        _sentiment_record(path, lineno, row[1], label, repairs, records)
    return records


_ACTSA_LABELS = {"+1": "positive", "-1": "negative", "0": "neutral"}
_ACTSA_LINE = re.compile(r"(\S+)(?:\s+(.*))?")


def read_actsa(path, repairs: Repairs) -> list[dict]:
    """ACTSA (Telugu): ``<label><spaces><sentence>`` per line, UTF-8 with BOM, CRLF endings.

    Labels +1/-1/0. The BOM and CRLF are handled (and counted) by ``_read_lines``;
    without stripping the BOM the first label would read "\\ufeff0" and be rejected.
    """
    records = []
    for lineno, line in enumerate(_read_lines(path, repairs), start=1):
        if not line.strip():
            repairs.add("blank_line_skipped", path, lineno)
            continue
        m = _ACTSA_LINE.fullmatch(line.strip())
        label = _ACTSA_LABELS.get(m.group(1))
        if label is None:
            raise DataError(path, lineno, f"unknown label {m.group(1)!r} (expected +1, -1 or 0)")
        _sentiment_record(path, lineno, m.group(2) or "", label, repairs, records)
    return records


_SST2_LABELS = {"1": "positive", "0": "negative"}


def read_sst2_tsv(path, repairs: Repairs) -> list[dict]:
    """SST-2 (GLUE, ALPS re-split): TSV with header ``sentence\\tlabel``, 1 positive / 0 negative.

    Split on tabs by hand, not with csv: the sentences are PTB-tokenised and hold bare
    quote characters that the csv module would try to interpret.
    """
    lines = _read_lines(path, repairs)
    if not lines:
        raise DataError(path, 1, "empty file, expected header 'sentence\\tlabel'")
    header = [h.strip() for h in lines[0].split("\t")]
    if header != ["sentence", "label"]:
        raise DataError(path, 1, f"expected header 'sentence\\tlabel', got {lines[0]!r}")
    records = []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            repairs.add("blank_line_skipped", path, lineno)
            continue
        cols = line.split("\t")
        if len(cols) != 2:
            raise DataError(path, lineno, f"expected 2 tab-separated columns (sentence, label), got {len(cols)}")
        label = _SST2_LABELS.get(cols[1].strip())
        if label is None:
            raise DataError(path, lineno, f"unknown label {cols[1]!r} (expected 1 or 0)")
        _sentiment_record(path, lineno, cols[0], label, repairs, records)
    return records


# --------------------------------------------------------------------------- NER


def _sentences(lines):
    """Group non-blank lines into sentences: yields [(lineno, line), ...] split at blank lines."""
    sentence = []
    for lineno, line in enumerate(lines, start=1):
        if line.strip():
            sentence.append((lineno, line))
        elif sentence:
            yield sentence
            sentence = []
    if sentence:  # the last sentence need not end with a blank line (IL-NER files don't)
        yield sentence


def _tag_type(tag: str) -> str | None:
    return None if tag == "O" else tag[2:]


_CONLL_TYPES = {"PER", "ORG", "LOC", "MISC"}


def read_conll2003(path, repairs: Repairs) -> list[dict]:
    """CoNLL-2003 English: ``token POS chunk NER`` per line, blank line between sentences.

    ``-DOCSTART-`` lines mark document boundaries, not sentences: skipped and counted.
    The tags are IOB1 (I-X starts an entity; B-X only between two adjacent same-type
    entities); converted to IOB2 so every entity starts with B-X, as in HF ``conll2003``
    and as seqeval expects. Each tag changed counts one ``iob1_to_iob2``.
    The file is clean, so an unknown tag is a DataError rather than a guess.
    """
    records = []
    for sentence in _sentences(_read_lines(path, repairs)):
        tokens, tags, first = [], [], None
        for lineno, line in sentence:
            cols = line.split()
            if cols and cols[0] == "-DOCSTART-":
                repairs.add("docstart_skipped", path, lineno)
                if tokens:  # a DOCSTART without a blank line before it still ends the sentence
                    records.append({"tokens": tokens, "tags": tags, "source": _source(path, first)})
                    tokens, tags, first = [], [], None
                continue
            if len(cols) != 4:
                raise DataError(path, lineno, f"expected 4 space-separated columns (token POS chunk NER), got {len(cols)}")
            tag = cols[3]
            if tag != "O" and not (tag[:2] in ("B-", "I-") and tag[2:] in _CONLL_TYPES):
                raise DataError(path, lineno, f"unknown NER tag {tag!r}")
            if tag.startswith("I-"):
                prev_type = _tag_type(tags[-1]) if tags else None
                if prev_type != tag[2:]:
                    # IOB1 I-X that begins an entity -> B-X in IOB2.
                    repairs.add("iob1_to_iob2", path, lineno, f"{tag} -> B-{tag[2:]}")
                    tag = "B-" + tag[2:]
            tokens.append(cols[0])
            tags.append(tag)
            first = first or lineno
        if tokens:
            records.append({"tokens": tokens, "tags": tags, "source": _source(path, first)})
    return records


_ILNER_TYPES = {"NEP", "NEL", "NEO", "NEN", "NETI", "NEAR", "NEU", "NED"}


def _ilner_tag(raw: str, prev: str, path, lineno: int, repairs: Repairs) -> str:
    """Map one raw IL-NER tag to a valid IOB2 tag given the previous (already repaired) tag.

    Every change is counted; nothing is dropped. The order matters: first make the
    tag well-formed (lost prefix, junk), then make the sequence valid (orphan I-).
    """
    prev_type = _tag_type(prev)
    if raw == "O":
        return "O"
    prefix, _, typ = raw.partition("-")
    if prefix in ("B", "I") and typ in _ILNER_TYPES:
        tag = raw
    elif prefix == "" and typ in _ILNER_TYPES:
        # "-NEL": the B-/I- letter was lost (Telugu ~1,420, Hindi ~80). Continuing an
        # entity of the same type is the reading that keeps a multi-token name whole;
        # otherwise it starts one.
        tag = ("I-" if prev_type == typ else "B-") + typ
        repairs.add("lost_prefix_repaired", path, lineno, f"{raw} -> {tag}")
        return tag
    else:
        # "-", "-doubt", "-''": no recoverable type, so not an entity.
        repairs.add("junk_tag_to_O", path, lineno, f"{raw!r} -> O")
        return "O"
    if tag.startswith("I-") and prev_type != typ:
        # IOB2 requires an entity to start with B-; an I-X after O or another type starts one.
        repairs.add("orphan_I_to_B", path, lineno, f"{raw} after {prev} -> B-{typ}")
        tag = "B-" + typ
    return tag


def read_ilner(path, repairs: Repairs) -> list[dict]:
    """IL-NER (Hindi, Telugu): ``token\\ttag`` per line, blank line between sentences.

    Dirty (see data/raw/il-ner/SOURCE.txt); repaired, never dropped:
    lost B-/I- prefix (``lost_prefix_repaired``), junk tags -> O (``junk_tag_to_O``),
    a line with no tab -> the whole line is the token, tag O (``missing_tag_to_O``),
    I-X not after B-X/I-X -> B-X (``orphan_I_to_B``). Output is valid IOB2.
    """
    records = []
    for sentence in _sentences(_read_lines(path, repairs)):
        tokens, tags = [], []
        for lineno, line in sentence:
            cols = line.split("\t")
            if len(cols) == 1:
                # Hindi-train.txt:213885 is the single field "O": whether the token or the
                # tag was lost cannot be told; keep it as a token so nothing is dropped.
                token, raw = cols[0].strip(), None
            elif len(cols) == 2:
                token, raw = cols[0].strip(), cols[1].strip()
            else:
                raise DataError(path, lineno, f"expected 2 tab-separated columns (token, tag), got {len(cols)}")
            if not token:
                raise DataError(path, lineno, f"empty token (tag {raw!r})")
            prev = tags[-1] if tags else "O"
            if not raw:
                repairs.add("missing_tag_to_O", path, lineno, f"token {token!r} has no tag -> O")
                tag = "O"
            else:
                tag = _ilner_tag(raw, prev, path, lineno, repairs)
            tokens.append(token)
            tags.append(tag)
        records.append({"tokens": tokens, "tags": tags, "source": _source(path, sentence[0][0])})
    return records


# --------------------------------------------------------------------------- datasets


# Where each split of each dataset (named in xlt.catalog.DATASETS) lives under raw_dir, and which
# reader parses it.
_LAYOUT = {
    ("sst2", "en"): (read_sst2_tsv, {"train": "sst2/train.tsv", "dev": "sst2/dev.tsv", "test": "sst2/test.tsv"}),
    ("iitp-product-reviews", "hi"): (
        read_iitp_csv,
        {
            "train": "iitp-product-reviews/hi-train.csv",
            "dev": "iitp-product-reviews/hi-valid.csv",
            "test": "iitp-product-reviews/hi-test.csv",
        },
    ),
    ("actsa", "te"): (read_actsa, {"all": "actsa/ACTSA_telugu_polarity_annotated_UTF.txt"}),
    # eng.testa is the CoNLL-2003 development set, eng.testb the test set.
    ("conll2003", "en"): (
        read_conll2003,
        {"train": "conll2003/eng.train", "dev": "conll2003/eng.testa", "test": "conll2003/eng.testb"},
    ),
    ("il-ner", "hi"): (read_ilner, {s: f"il-ner/Hindi/Hindi-{s}.txt" for s in ("train", "dev", "test")}),
    ("il-ner", "te"): (read_ilner, {s: f"il-ner/Telugu/Telugu-{s}.txt" for s in ("train", "dev", "test")}),
}


def read_dataset(name: str, lang: str, raw_dir, repairs: Repairs) -> dict[str, list[dict]]:
    """Read every split of one dataset/language from ``raw_dir`` (the data/raw folder).

    Returns ``{"train": ..., "dev": ..., "test": ...}`` for datasets with an official
    split and ``{"all": ...}`` otherwise (ACTSA), so the caller decides how to split it.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(DATASETS)}")
    if lang not in DATASETS[name]["langs"]:
        raise ValueError(f"dataset {name!r} has no language {lang!r}; it has {DATASETS[name]['langs']}")
    reader, files = _LAYOUT[(name, lang)]
    return {split: reader(Path(raw_dir) / rel, repairs) for split, rel in files.items()}


# --------------------------------------------------------------------------- raw data present?


def raw_data_problems(p: dict, raw_dir: str | Path, pairs) -> list[str]:
    """Missing raw datasets/files for (task, lang) pairs; each line says how to get them."""
    out: list[str] = []
    for task, lang in pairs:
        try:
            name = p["data"]["datasets"][task][lang]
        except (KeyError, TypeError):
            continue   # reported by problems()
        layout = _LAYOUT.get((name, lang)) if isinstance(name, str) else None   # the files its reader opens
        if layout is None:
            continue   # an unknown dataset, or one without this language: reported by problems()
        folder = Path(raw_dir) / name
        if not folder.is_dir():
            out.append(f"{folder}: raw dataset '{name}' (data.datasets.{task}.{lang}) is missing; "
                       f"run: dvc pull -R data/raw")
            continue
        for rel in layout[1].values():
            if not (Path(raw_dir) / rel).is_file():
                out.append(f"{Path(raw_dir) / rel}: missing from raw dataset '{name}' "
                           f"(data.datasets.{task}.{lang}); run: dvc pull -R data/raw")
    return out


def require_raw_data(p: dict, raw_dir: str | Path, task: str, lang: str) -> None:
    """Stop before any work when the raw dataset a stage reads has not been pulled."""
    missing = raw_data_problems(p, raw_dir, [(task, lang)])
    if missing:
        raise FileNotFoundError(missing[0])
