"""Compact storage for fine-tuned classifiers: frozen weights shared with the pretrained encoder,
the rest optionally in half precision.

A fine-tuned me5-small directory held 151 MB of weights, 64.5 MB of them the word-embedding
matrix that fine-tuning keeps frozen: a copy of models/pretrained/<encoder>/ in every model.
`save` leaves out every tensor that is bit-for-bit the pretrained one (checked, not assumed)
and records where it comes from and its sha256; `dtype` may store the remaining floating-point
tensors as float16 (loaded back as float32: compute is unchanged, the weights are rounded).

    <model dir>/xlt_model.safetensors   the model's own tensors
    <model dir>/xlt_model.json          {"dtype", "shared": {name: {"file", "key", "sha256"}}}

The weights file has its own name so that a plain `from_pretrained(dir)` fails with "no
model.safetensors" instead of silently drawing random embeddings; `load` here (used by every
xlt reader) rebuilds the full model, and `xlt export-model` writes a self-contained Hugging Face
directory for other tools. Directories without a manifest (plain save_pretrained) load as before.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import AutoConfig

from xlt import io

WEIGHTS = "xlt_model.safetensors"
MANIFEST = "xlt_model.json"
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class ModelStoreError(RuntimeError):
    pass


def _sha256(t: torch.Tensor) -> str:
    return hashlib.sha256(t.detach().contiguous().cpu().view(torch.uint8).numpy().tobytes()).hexdigest()


def _pretrained_tensors(pretrained_dir: Path) -> tuple[Path, set[str]]:
    """The pretrained weights file and its tensor names."""
    f = Path(pretrained_dir) / "model.safetensors"
    if not f.exists():
        raise ModelStoreError(f"{f}: no pretrained weights to share frozen tensors with")
    with safe_open(str(f), "pt") as st:
        return f, set(st.keys())


def save(model, tokenizer, out_dir: Path, pretrained_dir: Path | None = None, dtype: str = "float32",
         final_dir: Path | None = None) -> dict:
    """Write config, tokenizer and weights to out_dir; returns the manifest.

    pretrained_dir: tensors equal to its tensors (same name after the task model's prefix, e.g.
    `bert.`) are stored as references. final_dir: where out_dir will end up (out_dir may be a
    temporary directory renamed into place): references are relative to it, so a checkout that
    holds both directories anywhere loads them.
    """
    if dtype not in DTYPES:
        raise ModelStoreError(f"storage dtype {dtype!r}: expected one of {', '.join(DTYPES)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    shared: dict[str, dict] = {}
    if pretrained_dir is not None:
        f, names = _pretrained_tensors(pretrained_dir)
        prefix = f"{model.base_model_prefix}."
        with safe_open(str(f), "pt") as st:
            for name in list(state):
                # The pretrained file may hold the bare encoder (no prefix) or the same class.
                key = name if name in names else name.removeprefix(prefix)
                if key in names:
                    ref = st.get_tensor(key)
                    if ref.dtype == state[name].dtype and ref.shape == state[name].shape and torch.equal(ref, state[name]):
                        shared[name] = {"file": os.path.relpath(f, final_dir or out_dir), "key": key,
                                        "sha256": _sha256(ref)}
                        del state[name]
    target = DTYPES[dtype]
    own = {k: (v.to(target) if v.is_floating_point() else v).contiguous() for k, v in state.items()}
    save_file(own, str(out_dir / WEIGHTS), metadata={"format": "pt"})
    model.config.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    manifest = {"dtype": dtype, "shared": shared}
    io.write_json(out_dir / MANIFEST, manifest)
    return manifest


def is_compact(model_dir: Path) -> bool:
    return (Path(model_dir) / MANIFEST).exists()


def load(auto_cls, model_dir: Path, build=None, **config_overrides):
    """The model in model_dir as float32, in eval mode: compact (see `save`) or plain Hugging Face.
    build(config) -> model: for models whose modules differ from auto_cls.from_config's."""
    model_dir = Path(model_dir)
    if not is_compact(model_dir):
        return auto_cls.from_pretrained(model_dir, **config_overrides).eval()
    manifest = io.read_json(model_dir / MANIFEST)
    config = AutoConfig.from_pretrained(model_dir, **config_overrides)
    with torch.random.fork_rng(devices=[]):     # random init, overwritten below: leave the caller's RNG alone
        model = build(config) if build else auto_cls.from_config(config)
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in load_file(str(model_dir / WEIGHTS)).items()}
    for name, ref in manifest["shared"].items():
        f = (model_dir / ref["file"]).resolve()
        if not f.exists():
            raise ModelStoreError(
                f"{model_dir}: its frozen tensor {name} is shared with {f}, which is missing; "
                f"`dvc pull` (or `dvc repro`) the pretrained encoder, or use a directory written by `xlt export-model`")
        with safe_open(str(f), "pt") as st:
            t = st.get_tensor(ref["key"])
        if _sha256(t) != ref["sha256"]:
            raise ModelStoreError(
                f"{model_dir}: the shared tensor {name} in {f} is not the one it was trained with "
                f"(sha256 differs): the pretrained encoder changed since; retrain (`dvc repro`)")
        state[name] = t
    # Reported: parameters and persistent buffers only (non-persistent ones are never saved).
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ModelStoreError(f"{model_dir}: weights do not match the config: missing {missing[:5]}, "
                              f"unexpected {unexpected[:5]}")
    return model.eval()


def export(model_dir: Path, out_dir: Path, auto_cls) -> None:
    """A self-contained float32 Hugging Face directory (loads with from_pretrained anywhere)."""
    from transformers import AutoTokenizer
    model = load(auto_cls, model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    with io.atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if (Path(model_dir) / "train_info.json").exists():
            shutil.copy2(Path(model_dir) / "train_info.json", tmp / "train_info.json")
