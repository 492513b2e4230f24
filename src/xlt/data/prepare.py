"""The two data stages: `preprocess` (read raw, repair, clean) and `split`.

preprocess: data/raw/<dataset>/  ->  data/interim/<task>/<lang>/{records.jsonl, report.json}
split:      data/interim/<task>/<lang>/  ->  data/prepared/<task>/<lang>/{train,dev,test}.jsonl, report.json

The prepared format is canonical: sentiment {text, label}, NER {tokens, tags} in IOB2,
each with `source` (raw file:line) so any example can be traced back.
"""
from __future__ import annotations

from pathlib import Path

from xlt import io
from xlt.data import readers
from xlt.data.preprocess import CleanConfig, clean_ner, clean_sentiment
from xlt.data.split import distribution, make_splits


def dataset_name(params: dict, task: str, lang: str) -> str:
    try:
        return params["data"]["datasets"][task][lang]
    except KeyError:
        raise ValueError(f"params.yaml: no dataset configured at data.datasets.{task}.{lang}") from None


def preprocess(params: dict, task: str, lang: str, raw_dir: Path, out_dir: Path) -> dict:
    name = dataset_name(params, task, lang)
    raw_path = Path(raw_dir) / name
    if not raw_path.exists():
        raise FileNotFoundError(f"{raw_path}: raw dataset '{name}' is missing; run `dvc pull data/raw/{name}.dvc`")
    repairs = readers.Repairs()
    by_split = readers.read_dataset(name, lang, raw_dir, repairs)
    cfg = CleanConfig.from_params(params["preprocess"][task], f"preprocess.{task}")
    clean = clean_sentiment if task == "sentiment" else clean_ner
    records, cleaning = [], {}
    for split_name, recs in by_split.items():
        kept, counts = clean(recs, cfg, split_name)
        cleaning[split_name] = {"read": len(recs), "kept": len(kept), **dict(sorted(counts.items()))}
        records += [{**r, "split": split_name} for r in kept]
    report = {"dataset": name, "task": task, "lang": lang,
              "repairs": repairs.to_dict(), "cleaning": cleaning}
    out_dir = Path(out_dir)
    with io.atomic_path(out_dir) as tmp:
        tmp.mkdir()
        io.write_jsonl(tmp / "records.jsonl", records)
        io.write_json(tmp / "report.json", report)
    return report


def split(params: dict, task: str, lang: str, in_dir: Path, out_dir: Path) -> dict:
    data = params["data"]
    records = io.read_jsonl(Path(in_dir) / "records.jsonl")
    by_split: dict[str, list[dict]] = {}
    for r in records:
        by_split.setdefault(r.pop("split"), []).append(r)
    ratios = {k: float(v) for k, v in data["ratios"].items()}
    splits = make_splits(by_split, data["split"], ratios, int(data["seed"]))
    report = io.read_json(Path(in_dir) / "report.json")
    report["split"] = {"mode": data["split"] if set(by_split) == {"train", "dev", "test"} else "stratified",
                       "seed": int(data["seed"]),
                       "sizes": {k: len(v) for k, v in splits.items()},
                       "distribution": {k: distribution(v) for k, v in splits.items()}}
    out_dir = Path(out_dir)
    with io.atomic_path(out_dir) as tmp:
        tmp.mkdir()
        for name, recs in splits.items():
            io.write_jsonl(tmp / f"{name}.jsonl", recs)
        io.write_json(tmp / "report.json", report)
    return report
