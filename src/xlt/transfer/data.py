"""data/prepared/<task>/<lang>/ -> data/transfer/<task>/<lang>/{train,dev,test}.jsonl + report.json

Every record is put into the shared label space (labels.py). Sentiment items outside it (neutral)
are dropped from train and dev, and from test unless `neutral: threshold` keeps them as a gold
class; each drop is counted per split. NER keeps every sentence and maps its spans; the report
counts entities per type before and after, and the sentences that hold a shared-space entity.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from xlt import io
from xlt.transfer.labels import NerSpace, SentimentSpace, spans

SPLITS = ("train", "dev", "test")


def map_records(task: str, space, lang: str, records: list[dict], split: str) -> tuple[list[dict], dict]:
    """(records in the shared space, counts for the report)."""
    if task == "sentiment":
        kept, dropped = [], Counter()
        for r in records:
            label = r["label"]
            keep = label in space.classes or (split == "test" and space.keep_gold(label))
            if keep:
                kept.append(r)
            else:
                dropped[label] += 1
        return kept, {"read": len(records), "kept": len(kept), "dropped": dict(sorted(dropped.items())),
                      "labels": dict(sorted(Counter(r["label"] for r in kept).items()))}
    before, after = Counter(), Counter()
    out = []
    for r in records:
        tags = space.map_tags(r["tags"], lang)
        before.update(t for t, _, _ in spans(r["tags"]))
        after.update(t for t, _, _ in spans(tags))
        out.append({**r, "tags": tags})
    return out, {"read": len(records), "kept": len(out),
                 "with_entity": sum(any(t != "O" for t in r["tags"]) for r in out),
                 "entities_before": dict(sorted(before.items())), "entities_after": dict(sorted(after.items()))}


def prepare(task: str, lang: str, labels_section: dict, in_dir: Path, out_dir: Path) -> dict:
    space = SentimentSpace.from_params(labels_section["sentiment"]) if task == "sentiment" \
        else NerSpace.from_params(labels_section["ner"])
    report = {"task": task, "lang": lang, "space": list(space.classes if task == "sentiment" else space.types),
              "splits": {}}
    with io.atomic_path(out_dir) as tmp:
        tmp.mkdir()
        for split in SPLITS:
            path = Path(in_dir) / f"{split}.jsonl"
            if not path.exists():
                raise FileNotFoundError(f"{path}: missing; run `dvc repro split@{task}-{lang}`")
            records, counts = map_records(task, space, lang, io.read_jsonl(path), split)
            if not records:
                raise ValueError(f"{path}: no record left in the shared label space {report['space']}")
            io.write_jsonl(tmp / f"{split}.jsonl", records)
            report["splits"][split] = counts
        if task == "sentiment":
            report["neutral"] = space.neutral
        io.write_json(tmp / "report.json", report)
    return report
