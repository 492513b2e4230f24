"""The language matrix (dvc.yaml: transfer-matrix): each in-language model of the main pipeline on
the other languages' test sets, in the shared label space.

  metrics/transfer/matrix/<task>/<source>.json   the <source> model on every other test set

The English row is what the main pipeline's English model (all of its training data) gives Hindi
and Telugu zero-shot; the Hindi and Telugu rows answer the question the English source models
cannot: is a related source language worth more than English? IL-NER Hindi and Telugu share one
annotation guideline (and type set) but not a script. The diagonal is `transfer-inlang`. One model
per language (the main pipeline's seed), so beside each score stands its bootstrap interval over
test items, not a spread over seeds (the English source models' spread, `transfer-zeroshot`, is the
scale of what a seed changes).
"""
from __future__ import annotations

import logging
from pathlib import Path

from xlt import io
from xlt.layout import SOURCE, Layout
from xlt.params import _bf16
from xlt.transfer import finetune
from xlt.transfer.labels import space_from_params
from xlt.transfer.paths import matrix_metrics
from xlt.transfer.stages import _brief, evaluate_on, use_all_cores

log = logging.getLogger(__name__)


def cross(p: dict, task: str, source: str, root: Path) -> dict:
    """The in-language model of `source` on the test set of every other language of the transfer
    experiments. Its predictions are mapped into the shared space with its own language's mapping
    (its label set), the gold with the test language's (data/transfer)."""
    use_all_cores()
    t = p["transfer"]
    paths = Layout(root)
    space = space_from_params(task, t["labels"])
    model_dir = paths.model(t["encoder"], task, source)
    if not (model_dir / "config.json").exists():
        raise FileNotFoundError(f"{model_dir}: no in-language model; run `dvc repro train@{t['encoder']}-{task}-{source}`")
    model, tokenizer = finetune.load(task, model_dir, None)
    out: dict = {"source": source, "model": str(model_dir)}
    for lang in [SOURCE, *t["targets"]]:
        if lang == source:
            continue
        records = io.read_jsonl(paths.transfer_data(task, lang) / "test.jsonl")
        out[lang] = evaluate_on(model, tokenizer, task, space, source, records, t["bootstrap"], _bf16(t["predict_bf16"]))
        log.info("%s model of %s on %s: %s", task, source, lang, _brief(task, out[lang]))
    io.write_json(matrix_metrics(root, task, source), out)
    return out
