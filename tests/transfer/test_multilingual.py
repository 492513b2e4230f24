"""The multilingual training mixture: per-language caps, every language present, deterministic."""
from __future__ import annotations

import json
from collections import Counter

from xlt import io
from xlt.transfer.multilingual import mix


def _write(root, task, lang, n_train, n_dev):
    d = root / f"data/transfer/{task}/{lang}"
    for split, n in (("train", n_train), ("dev", n_dev)):
        io.write_jsonl(d / f"{split}.jsonl", [{"text": f"{lang} {split} {i}", "label": ("negative", "positive")[i % 2]}
                                             for i in range(n)])


def _texts(path):
    return [json.loads(line)["text"] for line in path.read_text().splitlines()]


def test_caps_apply_per_language_and_null_keeps_all(tmp_path):
    for lang, n in (("en", 50), ("hi", 30), ("te", 12)):
        _write(tmp_path, "sentiment", lang, n, 10)
    out = tmp_path / "mix"
    counts = mix(tmp_path, "sentiment", ["en", "hi", "te"], {"en": 20, "hi": None, "te": 100}, 4, 1, out)
    assert counts == {"train": {"en": 20, "hi": 30, "te": 12}, "dev": {"en": 4, "hi": 4, "te": 4}}
    train = _texts(out / "train.jsonl")
    assert Counter(t.split()[0] for t in train) == {"en": 20, "hi": 30, "te": 12}
    assert len(set(train)) == len(train)                       # no record twice
    # shuffled together: the languages are interleaved, not one block after another
    firsts = [t.split()[0] for t in train[:20]]
    assert len(set(firsts)) > 1


def test_same_seed_same_mixture_other_seed_other_order(tmp_path):
    for lang in ("en", "te"):
        _write(tmp_path, "sentiment", lang, 40, 8)
    a, b, c = (tmp_path / x for x in "abc")
    mix(tmp_path, "sentiment", ["en", "te"], {"en": 10, "te": 10}, None, 1, a)
    mix(tmp_path, "sentiment", ["en", "te"], {"en": 10, "te": 10}, None, 1, b)
    mix(tmp_path, "sentiment", ["en", "te"], {"en": 10, "te": 10}, None, 2, c)
    assert _texts(a / "train.jsonl") == _texts(b / "train.jsonl")
    assert _texts(a / "train.jsonl") != _texts(c / "train.jsonl")
    assert len(_texts(a / "dev.jsonl")) == 16                 # dev_cap None: every dev record
