"""bfloat16 autocast against fp32 for the transfer stages' test predictions, on this machine.

For one English model per task (models/transfer/<task>/source-seed<seed>), predicts every target
test set twice, in fp32 and under bfloat16 autocast, and prints sequences/s, the share of
predictions that differ and the headline score of each (the transfer stages use bf16 when
`transfer.predict_bf16` is true). Run after `dvc repro transfer-source`:

    python benchmarks/transfer_bf16.py [--seed 1]
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from xlt import io, params
from xlt.speed import cpu_model, speed_flags
from xlt.evaluate import gold_of
from xlt.layout import Layout
from xlt.transfer import finetune, stages
from xlt.transfer.labels import space_from_params


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    p = params.load()
    torch.set_num_threads(2)
    out = {"cpu": cpu_model(), "flags": speed_flags(), "threads": torch.get_num_threads(), "results": []}
    for task in p["transfer"]["tasks"]:
        space = space_from_params(task, p["transfer"]["labels"])
        model, tok = finetune.load(task, Layout().source_model(task, args.seed), None)
        for lang in p["transfer"]["targets"]:
            records = io.read_jsonl(Layout().transfer_data(task, lang) / "test.jsonl")
            row = {"task": task, "lang": lang, "n": len(records)}
            preds = {}
            for name, bf16 in (("fp32", False), ("bf16", True), ("fp32_again", False)):
                start = time.perf_counter()
                preds[name] = finetune.predict(model, tok, task, space, lang, records, bf16=bf16)
                row[f"{name}_seq_per_s"] = round(len(records) / (time.perf_counter() - start), 1)
                row[f"{name}_score"] = round(100 * stages.score(task, space, gold_of(task, records),
                                                                preds[name], {"samples": 10, "seed": 0})["f1"], 2)
            row["differing_predictions"] = sum(a != b for a, b in zip(preds["fp32"], preds["bf16"]))
            out["results"].append(row)
            print(json.dumps(row))
    print(json.dumps({k: v for k, v in out.items() if k != "results"}))


if __name__ == "__main__":
    main()
