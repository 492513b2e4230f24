"""Which few-shot budget trains the NER control arms? The few-shot arms at several fixed budgets,
on the few-shot stages' own samples.

`transfer-fewshot` gives every arm at one k the same fixed budget (`transfer.fewshot.points`:
epochs over the k examples, batch 8, no target dev set). For NER the arms that start from the bare
encoder (target-only, joint) score 0.0 at every k of the default grid: at k = 1000 one epoch is 125
updates, and the model never leaves the all-O plateau, so the control that says what English adds
means nothing for NER. The in-language recipes that do train (IL-NER Hindi and Telugu: lr 1e-4,
1,100-1,400 updates) suggest the budget, not the data, is short. This reruns the arms exactly as
`xlt.transfer.stages.fewshot` does (same draws, samples, English subsample, learning rate, batch
size, warm-up, frozen embeddings; the joint arm repeats the k examples once per epoch and sees its
250 English sentences once; the sequential arm starts from the draw's English model) with each of
--epochs in place of the point's own budget, and scores on the full test set like the stage
(strict F1, PER/LOC/ORG). Every arm gets the same budget, as in the stage.

Needs the transfer data and the encoder (`dvc repro transfer-data pretrained`). With `--arms
sequential` the English source model of each draw's seed is trained first, exactly as
`transfer-source` does (423 s for seed 1 here, Milan, fp32), and its zero-shot scores printed. Writes nothing in the
repository unless --out names a file there. Measured results (draw 0, k = 1000 / 100 / 10):
benchmarks/results/ner-fewshot-budget*.json, read in docs/transfer.md.

    python benchmarks/ner_fewshot_budget.py [--targets hi te] [--k 1000] [--epochs 1 3 6]
        [--arms sequential target joint] [--draws 1] [--out FILE]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import torch

from xlt import io
from xlt.speed import cpu_model, speed_flags

ROOT = Path(__file__).resolve().parents[1]


def source_model(p: dict, root: Path, seed: int, tmp: Path) -> Path:
    """The English source model of `seed`, trained as `transfer-source` trains it (its settings,
    data and epoch choice on English dev), into `tmp`; its zero-shot scores are printed so they can be
    checked against metrics/transfer/zeroshot/ner/seed<seed>.json."""
    from xlt.layout import SOURCE, Layout
    from xlt.train import train
    from xlt.transfer import finetune, stages
    from xlt.transfer.labels import space_from_params

    paths, t = Layout(root), p["transfer"]
    out = tmp / f"source-seed{seed}"
    start = time.time()
    train(t["encoder"], "ner", SOURCE, stages.source_config(p, "ner", seed), paths.pretrained(t["encoder"]),
          paths.transfer_data("ner", SOURCE), out, tmp / f"log{seed}", tmp / f"checkpoints{seed}")
    model, tokenizer = finetune.load("ner", out, None)
    space = space_from_params("ner", t["labels"])
    f1 = {}
    for lang in [SOURCE, *t["targets"]]:
        records = io.read_jsonl(paths.transfer_data("ner", lang) / "test.jsonl")
        f1[lang] = round(100 * stages.evaluate_on(model, tokenizer, "ner", space, lang, records, t["bootstrap"])["f1"], 2)
    print(f"English source model seed {seed} ({round(time.time() - start)} s): test F1 {f1}", flush=True)
    return out


def run(p: dict, root: Path, lang: str, k: str, draw: int, arm: str, epochs: float,
        source: Path | None = None) -> dict:
    """One run of one arm, as `stages.fewshot` makes it, with `epochs` over the k examples
    (`source`: the English model the sequential arm starts from)."""
    from xlt.layout import SOURCE, Layout
    from xlt.params import _bf16
    from xlt.training import subsample
    from xlt.transfer import finetune, sampling, stages
    from xlt.transfer.labels import space_from_params

    task, t = "ner", p["transfer"]
    fs, paths = t["fewshot"], Layout(root)
    space = space_from_params(task, t["labels"])
    train = io.read_jsonl(paths.transfer_data(task, lang) / "train.jsonl")
    test = io.read_jsonl(paths.transfer_data(task, lang) / "test.jsonl")
    english = io.read_jsonl(paths.transfer_data(task, SOURCE) / "train.jsonl")
    seed = int(fs["sample_seed"]) + draw
    sample = sampling.k_shot(train, k, sampling.draw_order(task, train, seed, float(fs["entity_share"])))
    budget = finetune.Budget(learning_rate=float(fs["learning_rate"][task]), epochs=float(epochs),
                             batch_size=int(fs["batch_size"]), bf16=_bf16(fs["bf16"]))
    init = paths.pretrained(t["encoder"])
    if arm == "sequential":
        init, data, b = source, sample, budget
    elif arm == "target":
        data, b = sample, budget
    elif arm == "joint":      # as the stage: English once, the k examples once per epoch
        data = subsample(english, int(fs["joint"]["english"]), seed) + sample * max(1, round(budget.epochs))
        b = dataclasses.replace(budget, epochs=1)
    else:
        raise SystemExit(f"--arms: {arm!r} is not an arm this benchmark runs (sequential, target, joint)")
    start = time.time()
    torch.manual_seed(seed)
    model, tokenizer = finetune.load(task, init, space.labels(), b.dropout)
    finetune.finetune(model, tokenizer, task, data, b, seed)
    seconds = time.time() - start
    s = stages.evaluate_on(model, tokenizer, task, space, lang, test, t["bootstrap"], _bf16(t["predict_bf16"]))
    updates = -(-len(data) // b.batch_size) * int(b.epochs)
    out = {"lang": lang, "k": str(k), "draw": draw, "sample_seed": seed, "arm": arm, "epochs": float(epochs),
           "train_sentences": len(data), "updates": updates, "train_seconds": round(seconds),
           "f1": round(100 * s["f1"], 2), "precision": round(100 * s["precision"], 2),
           "recall": round(100 * s["recall"], 2), "overlap_f1": round(100 * s["overlap"]["f1"], 2),
           "per_type_f1": {x: round(100 * v["f1"], 2) for x, v in s["per_type"].items()},
           "ci95": [round(100 * x, 2) for x in s["ci95"]["f1"]]}
    print(f"{lang} k={k} draw {draw} {arm} {epochs:g} epochs ({updates} updates, {out['train_seconds']} s): "
          f"F1 {out['f1']} (P {out['precision']} / R {out['recall']})", flush=True)
    return out


def main() -> None:
    from xlt.params import load

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT)
    ap.add_argument("--targets", nargs="+", default=["hi", "te"], choices=["hi", "te"])
    ap.add_argument("--k", default="1000", help="k target sentences (a point of the few-shot grid)")
    ap.add_argument("--epochs", type=float, nargs="+", default=[1, 3, 6],
                    help="budgets to compare, in epochs over the k examples (the default grid's k=1000: 1)")
    ap.add_argument("--arms", nargs="+", default=["target", "joint"], choices=["sequential", "target", "joint"],
                    help="sequential trains the draw's English source model first (as transfer-source)")
    ap.add_argument("--draws", type=int, default=1, help="draws 0 .. N-1 (the stage's draws, same samples)")
    ap.add_argument("--out", type=Path, help="write the results here (JSON), after every run")
    a = ap.parse_args()
    root = a.root.resolve()
    p = load(root / "params.yaml")
    from xlt.transfer.stages import use_all_cores
    use_all_cores()       # as the stage
    results = {"runs": [], "machine": {"cpu": cpu_model(), "flags": speed_flags(), "threads": torch.get_num_threads()},
               "command": f"python benchmarks/ner_fewshot_budget.py --targets {' '.join(a.targets)} --k {a.k} "
                          f"--epochs {' '.join(f'{e:g}' for e in a.epochs)} --arms {' '.join(a.arms)} "
                          f"--draws {a.draws}"}
    seeds = [int(s) for s in p["transfer"]["seeds"]]
    with tempfile.TemporaryDirectory() as tmp:
        sources: dict = {}        # English model per seed, trained once for every target and budget
        for lang in a.targets:
            for draw in range(a.draws):
                seed = seeds[draw % len(seeds)]         # as the stage: draw d continues seed d mod 3
                if "sequential" in a.arms and seed not in sources:
                    sources[seed] = source_model(p, root, seed, Path(tmp))
                for epochs in a.epochs:
                    for arm in a.arms:
                        results["runs"].append(run(p, root, lang, a.k, draw, arm, epochs, sources.get(seed)))
                        if a.out:
                            io.write_json(a.out, results)
    if not a.out:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
