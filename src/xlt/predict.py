"""Batch prediction with a fine-tuned model directory (`xlt predict`): sentiment labels with class
probabilities, or NER tags per word, for a whole file at once.

Why it is faster than `transformers.pipeline` on the same weights (benchmarks/bench.py measures both):
* inputs are tokenised once and batched by *token* count, so a batch holds sentences of nearly one
  length (IITP Hindi test, batches of 16: 5% padding, against 138% for the pipeline's batches of 32
  in file order); results go back in input order;
* no Trainer and no datasets.map: one forward pass per batch under torch.inference_mode;
* bfloat16 autocast where the CPU has bf16 instructions (xlt.speed.bf16_auto), optional int8
  dynamic quantisation of the Linear layers (accuracy change measured in the benchmark);
* backend `onnx`: the same float32 weights exported once to ONNX (eager attention, so that
  onnxruntime's BERT optimizer fuses attention, GELU and the skip-layer-norms) and run by
  onnxruntime, whose GEMMs outrun MKL's on the AMD EPYC measured. The export is cached under
  `cache_dir` by a hash of the model directory's bytes and the library versions, once it has
  reproduced torch's logits on a check batch; it costs about 12 s once per me5-small model. Needs
  the `onnx` extra (`pip install -e ".[onnx]"`).
Predictions equal the evaluate stages' up to float rounding (tests/test_predict.py checks both
backends against a plain forward pass). NER tags are each word's argmax by default, as in the
pipeline's metrics, or the best valid IOB2 sequence (`decode="viterbi"`, xlt.decoding).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import AutoConfig, AutoTokenizer

from xlt import decoding, io, modelstore, tasks
from xlt.demo.text import words as split_words
from xlt.params import TASKS
from xlt.speed import bf16_auto
from xlt.tasks.ner import IGNORE, align_labels

BACKENDS = ("torch", "onnx")
MAX_LENGTH = 512          # whole sentences, as the evaluate stages read them
# Sorted batches make the batch size matter little; 16 was fastest on IITP Hindi test (bench.py).
BATCH_SIZE = 16


class PredictError(ValueError):
    """A model directory or backend that cannot predict, said in one line."""


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "xlt" / "onnx"


def task_of(config, model_dir: Path | None = None) -> str:
    """The training stages record the task in train_info.json; a plain Hugging Face directory
    (`xlt export-model`) names its head class in config.architectures."""
    info = Path(model_dir or "") / "train_info.json"
    recorded = io.read_json(info).get("task") if model_dir is not None and info.exists() else None
    if recorded in TASKS:
        return recorded
    archs = config.architectures or []
    if any(a.endswith("TokenClassification") for a in archs):
        return "ner"
    if any(a.endswith("SequenceClassification") for a in archs):
        return "sentiment"
    raise PredictError(f"architectures {archs}: neither a sequence nor a token classifier")


def model_config(model_dir: Path):
    """The directory's config (PredictError if it has none)."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").exists():
        raise PredictError(f"{model_dir}: no config.json; not a model directory "
                           f"(models/<model>/<task>/<lang>/ after `dvc repro`, or `xlt export-model` output)")
    return AutoConfig.from_pretrained(model_dir)


def model_task(model_dir: Path) -> str:
    """'sentiment' or 'ner' for a model directory (PredictError if it is none)."""
    return task_of(model_config(model_dir), model_dir)


def token_sorted_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of neighbours in token count (stable: ties keep input order)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[s:s + batch_size] for s in range(0, len(order), batch_size)]


def padded(rows: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r
        mask[i, :len(r)] = 1
    return ids, mask


class Predictor:
    """Loads a model directory (compact or plain Hugging Face) once; `predict` runs whole lists."""

    def __init__(self, model_dir: Path, backend: str = "torch", batch_size: int = BATCH_SIZE,
                 int8: bool = False, bf16: bool | None = None, cache_dir: Path | None = None,
                 progress: bool = False, decode: str = "argmax"):
        if backend not in BACKENDS:
            raise PredictError(f"backend {backend!r}: choose one of {', '.join(BACKENDS)}")
        if decode not in decoding.DECODERS:
            raise PredictError(f"decoding {decode!r}: choose one of {', '.join(decoding.DECODERS)}")
        if backend == "onnx" and int8:
            raise PredictError("int8 is torch's dynamic quantisation: use it with backend torch")
        self.model_dir = Path(model_dir)
        config = model_config(self.model_dir)
        self.task = task_of(config, self.model_dir)
        self.labels = [config.id2label[i] for i in sorted(config.id2label, key=int)]
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        self.backend, self.batch_size, self.int8, self.progress = backend, batch_size, int8, progress
        self.decode = decode
        self.bf16 = bf16_auto()["bf16"] if bf16 is None else bf16
        auto_model = tasks.get(self.task).auto_model
        if backend == "torch":
            self.model = modelstore.load(auto_model, self.model_dir)
            if int8:
                with warnings.catch_warnings():   # torch marks eager quantisation deprecated; 2.13 (the pin) has it
                    warnings.simplefilter("ignore", UserWarning)
                    self.model = torch.ao.quantization.quantize_dynamic(self.model, {torch.nn.Linear},
                                                                        dtype=torch.qint8)
            self.session = None
        else:
            self.bf16 = False      # onnxruntime runs the float32 graph
            self.onnx_path = export_onnx(self.model_dir, auto_model, config, self.task,
                                         cache_dir or default_cache_dir())
            self.session = _session(self.onnx_path)

    def describe(self) -> str:
        if self.backend == "onnx":
            import onnxruntime
            return f"onnxruntime {onnxruntime.__version__}, float32 ({self.onnx_path})"
        return f"torch {torch.__version__}, " + ("int8 dynamic" if self.int8 else "bfloat16 autocast" if self.bf16 else "float32")

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.session is not None:
            return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            return self.model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).logits.float().numpy()

    def logits(self, inputs: list) -> list[np.ndarray]:
        """Per input, in input order: the sentence's logits (sentiment: texts) or one row of logits
        per word, read at its first sub-token (NER: lists of words; words past MAX_LENGTH tokens
        get no row)."""
        if not inputs:
            return []
        words = self.task == "ner"
        enc = self.tokenizer(inputs, is_split_into_words=words, truncation=True, max_length=MAX_LENGTH)
        rows = enc["input_ids"]
        out: list = [None] * len(inputs)
        batches = token_sorted_batches([len(r) for r in rows], self.batch_size)
        for batch in tqdm(batches, desc="predicting", unit="batch", disable=not self.progress or len(batches) < 10):
            ids, mask = padded([rows[i] for i in batch], self.tokenizer.pad_token_id)
            logits = self._forward(ids, mask)
            for pos, i in enumerate(batch):
                if not words:
                    out[i] = logits[pos]
                    continue
                # The first sub-token of each word, by the rule training labels with.
                word_at = align_labels(enc.word_ids(i), list(range(len(inputs[i]))))
                out[i] = logits[pos, [t for t, w in enumerate(word_at) if w != IGNORE]]
        return out

    def predict(self, inputs: list) -> list[dict]:
        """Sentiment: {'label', 'probabilities': {label: p}}. NER: {'words', 'tags': one per word},
        decoded by `decode` (xlt.decoding; a word cut off by MAX_LENGTH is tagged O, as the
        evaluate stages count it)."""
        results = []
        for x, lg in zip(inputs, self.logits(inputs)):
            if self.task == "sentiment":
                results.append({"label": self.labels[int(lg.argmax())],
                                "probabilities": {l: round(float(p), 4)
                                                  for l, p in zip(self.labels, np.exp(decoding.log_softmax(lg)))}})
            else:
                tags = decoding.decode(decoding.log_softmax(lg), self.labels, self.decode) if len(lg) else []
                results.append({"words": list(x), "tags": tags + ["O"] * (len(x) - len(tags))})
        return results


def read_inputs(path: Path, task: str, clean=None) -> tuple[list[dict], list]:
    """(records, model inputs). `.jsonl`: one object per line with 'text' (a string; NER splits it
    into words as the NER corpora are: at whitespace, punctuation split off, xlt.demo.text.words)
    or, for NER, 'tokens' (a list of strings). Anything else: one sentence per line.
    Records are the lines as given plus 'line' (blank lines are skipped); inputs are what the
    model reads: sentiment texts passed through `clean` (the pipeline's preprocessing), NER word
    lists. A bad line stops with `path:line: problem` (xlt.io.DataError)."""
    path = Path(path)
    records, inputs = [], []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            if path.suffix == ".jsonl":
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    raise io.DataError(path, n, f"not JSON ({e.msg})") from None
                if not isinstance(rec, dict):
                    raise io.DataError(path, n, "not a JSON object")
            else:
                rec = {"text": line.rstrip("\r\n")}
            text = rec.get("text")
            if task == "ner" and "tokens" in rec:
                x = rec["tokens"]
                if not (isinstance(x, list) and x and all(isinstance(t, str) and t.strip() for t in x)):
                    raise io.DataError(path, n, "'tokens' must be a non-empty list of non-blank strings")
            elif isinstance(text, str) and text.strip():
                x = [w.text for w in split_words(text)] if task == "ner" else clean(text) if clean else text
                if not x:
                    raise io.DataError(path, n, "nothing left after cleaning (only URLs, e-mails, handles or HTML)")
            else:
                need = "'text' (a non-blank string) or 'tokens'" if task == "ner" else "'text' (a non-blank string)"
                raise io.DataError(path, n, f"needs {need}")
            records.append({"line": n, **rec})
            inputs.append(x)
    if not records:
        raise io.DataError(path, None, "no sentences")
    return records, inputs


# --------------------------------------------------------------------------- onnx


def _onnx_modules():
    try:
        import onnx  # noqa: F401  (torch.onnx's exporter writes through it)
        import onnxruntime
    except ImportError as e:
        raise PredictError(f"backend onnx needs the onnx and onnxruntime packages ({e.name} is missing): "
                           f"pip install -e '.[onnx]', or use backend torch") from None
    return onnxruntime


def cache_key(model_dir: Path) -> str:
    """Bytes of every file in the model directory (and the files its shared tensors point to are
    pinned by their sha256 in the manifest, which is one of those files), plus the versions that
    shape the exported graph."""
    import transformers
    onnxruntime = _onnx_modules()
    h = hashlib.sha256(f"torch {torch.__version__} transformers {transformers.__version__} "
                       f"onnxruntime {onnxruntime.__version__}".encode())
    h.update(io.digest([model_dir]).encode())
    return h.hexdigest()[:20]


# Largest |logit| difference an export may show against torch on the check batch (seen: <= 1e-5).
EXPORT_TOLERANCE = 1e-3


def export_onnx(model_dir: Path, auto_model, config, task: str, cache_dir: Path) -> Path:
    """model.onnx for this model directory, exported on first use and reused after. Before it is
    cached, it must compute torch's logits on a check batch (PredictError otherwise)."""
    onnxruntime = _onnx_modules()
    target = Path(cache_dir) / cache_key(model_dir) / "model.onnx"
    if target.exists():
        return target
    from onnxruntime.transformers import optimizer
    # Eager attention exports as plain MatMul/Softmax, which the optimizer fuses into one
    # Attention op (SDPA exports as a pattern it does not recognise).
    model = modelstore.load(auto_model, model_dir, attn_implementation="eager")
    example = (torch.tensor([[1, 2, 3, 4], [1, 2, 0, 0]]), torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]]))
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "logits": {0: "batch"} if task == "sentiment" else {0: "batch", 1: "tokens"}}
    with io.atomic_path(target.parent) as tmp:
        tmp.mkdir(parents=True)
        raw = tmp / "raw.onnx"
        with warnings.catch_warnings():      # tracer warnings about Python control flow in the mask code
            warnings.simplefilter("ignore")
            torch.onnx.export(model, example, str(raw), input_names=["input_ids", "attention_mask"],
                              output_names=["logits"], dynamic_axes=axes, opset_version=17, dynamo=False)
        # Fused only where measured (BERT: me5-small, mBERT); other encoders run unfused.
        if config.model_type == "bert":
            logging.disable(logging.INFO)        # the optimizer logs every fusion at INFO
            try:
                fused = optimizer.optimize_model(str(raw), model_type="bert", num_heads=config.num_attention_heads,
                                                 hidden_size=config.hidden_size)
                fused.save_model_to_file(str(tmp / "model.onnx"))
            finally:
                logging.disable(logging.NOTSET)
            raw.unlink()
        else:
            raw.rename(tmp / "model.onnx")
        difference = _check_export(model, tmp / "model.onnx", config.vocab_size)
        if difference > EXPORT_TOLERANCE:
            raise PredictError(f"{model_dir}: its onnx export disagrees with torch (largest logit difference "
                               f"{difference:.2g} > {EXPORT_TOLERANCE}); use backend torch")
        io.write_json(tmp / "source.json", {"model_dir": str(Path(model_dir).resolve()),
                                            "onnxruntime": onnxruntime.__version__,
                                            "largest_logit_difference_on_check": difference})
    return target


def _check_export(model, path: Path, vocab_size: int) -> float:
    """Largest |logit| difference between the export and torch on three random sentences of
    different lengths (padded positions left out)."""
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab_size, (3, 12), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, 7:], mask[2, 3:] = 0, 0
    with torch.inference_mode():
        expected = model(input_ids=ids, attention_mask=mask).logits.numpy()
    got = _session(path).run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
    if expected.ndim == 3:                  # token logits: real positions only
        keep = mask.numpy().astype(bool)
        expected, got = expected[keep], got[keep]
    return float(np.abs(expected - got).max())


def _session(path: Path):
    onnxruntime = _onnx_modules()
    so = onnxruntime.SessionOptions()
    so.intra_op_num_threads = torch.get_num_threads()     # `--threads` governs both backends
    so.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

