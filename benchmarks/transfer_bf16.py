"""bfloat16 autocast against fp32 for the transfer stages' test predictions, on this machine.

For one English model per task (models/transfer/<task>/source-seed<seed>), predicts every target
test set twice, in fp32 and under bfloat16 autocast, and prints sequences/s, the share of
predictions that differ and the headline score of each (the transfer stages use bf16 when
`transfer.predict_bf16` is true). Run after `dvc repro transfer-source`:

    python benchmarks/transfer_bf16.py [--seed 1]

`--probe` needs no fine-tuned model: it times training steps (batch 16 x 48 pieces, frozen word
embeddings, as the transfer stages train) and prediction batches (64 x 48) of the bare encoder with
a new NER head, in fp32 and under bfloat16 autocast, and prints what `bf16: auto` decides on this
CPU. Where the CPU has no bf16 instructions, autocast emulates bf16 and is many times slower:

    python benchmarks/transfer_bf16.py --probe
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from xlt import io, params
from xlt.speed import bf16_auto, cpu_model, speed_flags
from xlt.evaluate import gold_of
from xlt.layout import Layout
from xlt.transfer import finetune, stages
from xlt.transfer.labels import space_from_params


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--probe", action="store_true", help="time training and prediction steps of the bare encoder")
    args = ap.parse_args()
    p = params.load()
    torch.set_num_threads(2)
    if args.probe:
        space = space_from_params("ner", p["transfer"]["labels"])
        out = probe(Layout().pretrained(p["transfer"]["encoder"]), space.labels())
        print(json.dumps({k: v for k, v in out.items() if k != "runs"}))
        return
    out = {**machine(), "results": []}
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


def machine() -> dict:
    """What every result of this script is measured on."""
    return {"cpu": cpu_model(), "flags": speed_flags(), "threads": torch.get_num_threads()}


def probe(encoder_dir, labels: list[str], steps: int = 6, warmup: int = 2) -> dict:
    """Sequences/s of training steps and prediction batches of `encoder_dir` with a new NER head
    for `labels`, fp32 then bf16 then fp32 again (each run printed as it ends)."""
    model, _ = finetune.load("ner", encoder_dir, labels)
    model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    opt = torch.optim.AdamW([w for w in model.parameters() if w.requires_grad], lr=1e-5)
    gen = torch.Generator().manual_seed(0)
    vocab = model.config.vocab_size
    train_ids = torch.randint(5, vocab, (16, 48), generator=gen)
    targets = torch.randint(0, len(labels), (16, 48), generator=gen)
    predict_ids = torch.randint(5, vocab, (64, 48), generator=gen)
    out = {**machine(), "bf16_auto": bf16_auto(), "runs": []}
    for name, bf16 in (("fp32", False), ("bf16", True), ("fp32_again", False)):
        model.train()
        for i in range(warmup + steps):
            if i == warmup:
                start = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = model(input_ids=train_ids, labels=targets).loss
            loss.backward()
            opt.step()
            opt.zero_grad()
        train = steps * len(train_ids) / (time.perf_counter() - start)
        model.eval()
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(input_ids=predict_ids)
            start = time.perf_counter()
            for _ in range(steps // 2):
                model(input_ids=predict_ids)
            predict = steps // 2 * len(predict_ids) / (time.perf_counter() - start)
        row = {"run": name, "train_seq_per_s": round(train, 1), "predict_seq_per_s": round(predict, 1)}
        out["runs"].append(row)
        print(json.dumps(row), flush=True)
    return out


if __name__ == "__main__":
    main()
