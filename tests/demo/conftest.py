"""Tiny models for the demo tests, built once per session on fixture data in a temporary --root:
tiny-random sentiment and NER for en, hi and te, and tiny-random English->Hindi and
English->Telugu translation, in the directories and formats the pipeline writes. The fixture
sentences are learnt by heart (many epochs on a few sentences), so the tests can expect their labels,
entities and translations."""
from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from ruamel.yaml import YAML
from transformers import AutoTokenizer, DataCollatorForSeq2Seq

from xlt import io
from xlt.cli import cli
from xlt.translation import generator as gen

REPO = Path(__file__).resolve().parents[2]

EN_POS = "Ravi loves this phone, it is really good and fast."
EN_NEG = "Sita hates this phone, it is really bad and slow."
HI_POS = "रवि को दिल्ली में यह फ़ोन बहुत अच्छा लगा।"
HI_NEG = "सीता को मुंबई में यह फ़ोन बहुत खराब लगा।"
TE_POS = "రవి హైదరాబాద్ లో ఈ సినిమా చూశాడు, చాలా బాగుంది."
TE_NEG = "సీత విజయవాడ లో ఈ సినిమా చూసింది, చాలా చెడ్డది."
TE_NEU = "ఈ సినిమా ఈ రోజు విడుదలైంది."

SENTIMENT = {
    "en": [(EN_POS, "positive"), (EN_NEG, "negative"), ("Ravi lives in Delhi.", "positive")],
    "hi": [(HI_POS, "positive"), (HI_NEG, "negative")],
    "te": [(TE_POS, "positive"), (TE_NEG, "negative"), (TE_NEU, "neutral")],   # three classes, as ACTSA
}
NER = {
    "en": [("Ravi lives in Delhi .", "B-PER O O B-LOC O"),
           ("Ravi loves this phone , it is really good and fast .", "B-PER O O O O O O O O O O O"),
           ("Sita hates this phone , it is really bad and slow .", "B-PER O O O O O O O O O O O"),
           ("Sita works for Infosys in New Delhi .", "B-PER O O B-ORG O B-LOC I-LOC O")],
    "hi": [("रवि को दिल्ली में यह फ़ोन बहुत अच्छा लगा ।", "B-NEP O B-NEL O O O O O O O"),
           ("सीता को मुंबई में यह फ़ोन बहुत खराब लगा ।", "B-NEP O B-NEL O O O O O O O")],
    "te": [("రవి హైదరాబాద్ లో ఈ సినిమా చూశాడు , చాలా బాగుంది .", "B-NEP B-NEL O O O O O O O O"),
           ("సీత విజయవాడ లో ఈ సినిమా చూసింది , చాలా చెడ్డది .", "B-NEP B-NEL O O O O O O O O"),
           ("ఈ సినిమా ఈ రోజు విడుదలైంది .", "O O O O O O")],
}
TRANSLATION = {
    "hi": [("Ravi lives in Delhi.", "रवि दिल्ली में रहता है।"),
           (EN_POS, "रवि को यह फ़ोन पसंद है, यह सच में अच्छा और तेज़ है।"),
           (EN_NEG, "सीता को यह फ़ोन पसंद नहीं है, यह सच में खराब और धीमा है।")],
    "te": [("Ravi lives in Delhi.", "రవి ఢిల్లీలో నివసిస్తున్నాడు."),
           (EN_POS, "రవికి ఈ ఫోన్ చాలా ఇష్టం, ఇది వేగంగా ఉంది."),
           (EN_NEG, "సీతకు ఈ ఫోన్ ఇష్టం లేదు, ఇది నెమ్మదిగా ఉంది.")],
}


def assert_int8_linears(model) -> None:
    """demo.translation_dtype: int8 left no float nn.Linear and quantised at least one."""
    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in model.modules())
    assert not any(type(m) is torch.nn.Linear for m in model.modules())


def _write_data(root: Path) -> None:
    for lang in ("en", "hi", "te"):
        sent = [{"text": t, "label": lab} for t, lab in SENTIMENT[lang]] * 8
        ner = [{"tokens": t.split(), "tags": g.split()} for t, g in NER[lang]] * 8
        for r in ner:
            assert len(r["tokens"]) == len(r["tags"]), r
        for split in ("train", "dev", "test"):
            io.write_jsonl(root / f"data/prepared/sentiment/{lang}/{split}.jsonl", sent)
            io.write_jsonl(root / f"data/prepared/ner/{lang}/{split}.jsonl", ner)


def _write_params(root: Path) -> Path:
    yaml = YAML()
    p = yaml.load((REPO / "params.yaml").read_text())
    p["run"].update(models=["tiny-random"], tasks=["sentiment", "ner"], langs=["en", "hi", "te"])
    p["transfer"]["tasks"] = []
    p["run"]["translation"] = {"models": ["tiny-random"], "langs": ["hi", "te"], "generators": []}
    p["translation"]["models"]["tiny-random"].update(max_target_length=64)   # the Telugu targets are long
    p["translation"]["decode"].update(num_beams=2, max_new_tokens=64)
    # The tiny tokenizer splits Telugu into far more pieces per English piece than me5-small's.
    p["demo"]["max_new_tokens_ratio"] = 5.0
    p["demo"]["translation_model"] = "tiny-random"     # no measured metrics here to pick by
    params = root / "params.yaml"
    with params.open("w") as f:
        yaml.dump(p, f)
    return params


def _fit(model, batch: dict, steps: int, lr: float) -> float:
    """Plain full-batch AdamW: a few fixture sentences are learnt by heart in seconds (the
    Trainer's per-epoch evaluation and checkpoints would cost minutes here)."""
    torch.manual_seed(0)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        loss = model(**batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
    return float(loss.detach())


def _save(model, tokenizer, out: Path, info: dict) -> None:
    """The layout `xlt train` / `xlt mt train` write: transformers model + tokenizer + train_info.json."""
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    io.write_json(out / "train_info.json", {"model": "tiny-random", "fixture": True, **info})


def _train_models(root: Path, params: Path) -> dict:
    from xlt import params as params_mod
    from xlt import tasks
    from xlt.translation import model as mt
    from xlt.translation.config import mt_config
    pre = root / "models/pretrained/tiny-random"
    tok = AutoTokenizer.from_pretrained(pre)
    losses = {}
    for task_name in ("sentiment", "ner"):
        task = tasks.get(task_name)
        for lang in ("en", "hi", "te"):
            records = io.read_jsonl(root / f"data/prepared/{task_name}/{lang}/dev.jsonl")
            records = list({json.dumps(r, sort_keys=True): r for r in records}.values())   # unique
            labels = task.label_list(records)
            l2i = {l: i for i, l in enumerate(labels)}
            torch.manual_seed(0)
            model = task.auto_model.from_pretrained(pre, num_labels=len(labels), id2label=dict(enumerate(labels)),
                                                    label2id=l2i)
            encoded = task.encode(records, tok, l2i, 64)
            batch = task.collator(tok)([encoded[i] for i in range(len(encoded))])
            losses[f"{task_name}-{lang}"] = _fit(model, dict(batch), 60, 3e-3)
            _save(model, tok, root / f"models/tiny-random/{task_name}/{lang}", {"task": task_name, "lang": lang,
                                                                               "labels": labels})
    p = params_mod.load(params)
    for lang, pairs in TRANSLATION.items():
        cfg = mt_config(p, "tiny-random", lang)
        torch.manual_seed(0)
        model = mt.build(pre, cfg, tok)
        enc = mt.tokenize({"en": [a for a, _ in pairs], "tgt": [b for _, b in pairs]}, tok, cfg)
        batch = DataCollatorForSeq2Seq(tok, model=model)([{k: enc[k][i] for k in enc} for i in range(len(pairs))])
        losses[f"translation-{lang}"] = _fit(model, dict(batch), 100, 6e-3)   # loss ~0.05: by heart
        _save(model, tok, root / f"models/tiny-random/translation/{lang}", {"task": "translation", "lang": lang})
    return losses


def _cli(root: Path, params: Path, *args: str) -> None:
    result = CliRunner().invoke(cli, ["--root", str(root), "--params", str(params), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def build_demo_root(root: Path) -> Path:
    """Fixture data, params and every model the demo loads, under `root`; returns the params path.
    The encoder comes from `xlt pretrained` (tiny-random: the me5 tokenizer, vocabulary trimmed to
    the fixture text); the eight models are fine-tuned from it with one thread, which on a
    shared 2-core machine is several times faster for models this small than two."""
    _write_data(root)
    params = _write_params(root)
    start = time.perf_counter()
    _cli(root, params, "pretrained", "--model", "tiny-random")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        losses = _train_models(root, params)
    finally:
        torch.set_num_threads(threads)
    if os.environ.get("XLT_DEMO_TIMINGS"):
        print(f"demo fixture: {time.perf_counter() - start:.1f}s, final losses", losses)
    return params


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("demo-root")
    return root, build_demo_root(root)


@pytest.fixture(scope="package", autouse=True)
def one_torch_thread():
    """Tiny models run fastest on one thread, and on a shared 2-core machine two threads each can
    be 10-30x slower (measured: one English sentence 0.1 s vs 3.8 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def analyzer(demo_root):
    from xlt import params as params_mod
    from xlt.demo.analyzer import Analyzer
    from xlt.demo.config import demo_config
    root, params = demo_root
    return Analyzer(root, "tiny-random", "tiny-random", demo_config(params_mod.load(params)))


@pytest.fixture(scope="package")
def demo_server(analyzer):
    """`xlt serve`'s server on a free port of 127.0.0.1, serving on a background thread."""
    from xlt.demo.server import make_server
    server = make_server(analyzer, "127.0.0.1", 0)
    server.start_background()
    yield server
    server.shutdown()
    server.server_close()


# The tiny generators' training settings (40 epochs on three pairs: by heart).
GEN_CFG = gen.GenConfig(source="(set by train_tiny_generator)", sha256=None, learning_rate=3e-3, batch_size=3,
                        epochs=40, max_train_samples=None, max_eval_samples=None, max_length=64, eval_steps=20,
                        bf16=False, save_dtype="float16", seed=0)


def train_tiny_generator(root: Path, tiny_gemma, name: str, data: str, **config) -> None:
    """models/pretrained/<name> and models/<name>/translation/{hi,te} under root: conftest's tiny
    Gemma 3 (`config`: more Gemma3TextConfig settings) fine-tuned by heart on TRANSLATION, its pairs
    written under root/<data>/<lang>."""
    texts = [gen.prompt(en, lang) + f" {tgt}" for lang, pairs in TRANSLATION.items() for en, tgt in pairs]
    tiny_gemma(root / f"{name}-source", texts, **config)
    cfg = dataclasses.replace(GEN_CFG, source=str(root / f"{name}-source"))
    gen.materialise(name, cfg, root / f"models/pretrained/{name}")
    for lang, pairs in TRANSLATION.items():
        d = root / data / lang
        io.write_jsonl(d / "train.jsonl", [{"en": en, "tgt": t} for en, t in pairs])
        io.write_jsonl(d / "dev.jsonl", [{"en": en, "tgt": t} for en, t in pairs])
        gen.train(name, lang, cfg, root / f"models/pretrained/{name}", d,
                  root / f"models/{name}/translation/{lang}", root / f"plots/{name}-{lang}.csv")
