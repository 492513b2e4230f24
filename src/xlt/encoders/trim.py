"""Lossless vocabulary trimming for SentencePiece-Unigram encoders.

Why: 96M of multilingual-e5-small's 117M parameters are its 250k-row word-embedding
matrix, and en/hi/te corpora touch a few percent of those rows. On a CPU the optimiser
still updates (and the forward pass still carries) the whole matrix, so fine-tuning is
much faster when the matrix only holds the pieces the corpora use.

Why it is lossless for the given texts: a Unigram tokenizer segments each pre-token by
Viterbi, i.e. it returns the highest-scoring segmentation into vocabulary pieces (a
character no single-character piece covers becomes an <unk> node scored
min(piece score) - 10). Keep a subset S of the pieces that still contains every piece
of the chosen segmentation, and keep the scores:
  * the chosen segmentation is still available with the same score;
  * every segmentation over S was available before, so none scores higher, and a tie
    cannot flip: Viterbi keeps the first best candidate it meets at each lattice node,
    the kept candidates are met in the same order, and the winner is among them;
  * the <unk> score is min(score) - 10 over the vocabulary, so we keep the
    lowest-scoring piece too, or <unk> would score higher than before and could now
    win (tests/encoders/test_trim.py builds such a case);
  * a character whose single-character piece was dropped now gets an <unk> node, but
    that path scores below the same path with the dropped piece, which existed before.
So every kept text tokenises to the same pieces, and the model, whose rows we copy for
exactly those pieces, computes the same hidden states. Special and added tokens are
matched before the model runs and are always kept. Rather than trust the argument
alone, trim_vocabulary re-tokenises every text with the trimmed tokenizer and raises
if any segmentation differs.

With keep_chars (the default) every single-character piece is kept as well (13.8k for
XLM-R, ~5M parameters at hidden size 384), so unseen text in any script the vocabulary
covers still tokenises without <unk>, only into shorter pieces.

BPE and WordPiece are not handled: their segmentations are not a maximisation over the
vocabulary (merges are applied in rank order; WordPiece matches greedily), so dropping
an unused piece can change what other texts become.
"""
from __future__ import annotations

import copy
import json
import logging
import re
from pathlib import Path
from typing import Iterable

from xlt import io

log = logging.getLogger(__name__)

METADATA_FILE = "xlt_encoder.json"

# Tokenizer files that name token ids; everything else tokenizer-related (tokenizer.json
# aside) refers to tokens by their text. A stale sentencepiece.bpe.model is never copied:
# it would describe the untrimmed vocabulary.
_TOKENIZER_CONFIG = "tokenizer_config.json"
_SPECIAL_TOKENS_MAP = "special_tokens_map.json"
_ADDED_TOKENS = "added_tokens.json"

_BYTE_PIECE = re.compile(r"<0x[0-9A-Fa-f]{2}>")
_ID_FIELDS = ("pad_token_id", "bos_token_id", "eos_token_id", "sep_token_id",
              "cls_token_id", "mask_token_id", "unk_token_id", "decoder_start_token_id")


def trim_vocabulary(model_dir: str | Path, texts: Iterable[str], out_dir: str | Path,
                    keep_chars: bool = True) -> dict:
    """Write to `out_dir` a copy of the encoder in `model_dir` whose vocabulary holds only
    the special tokens, the pieces `texts` use and (with `keep_chars`) every
    single-character piece, in the original order with the original scores.

    On `texts` the result is lossless: the same pieces, the same hidden states. Returns
    {"original_vocab": rows of the original embedding matrix, "kept": rows kept,
     "texts": number of texts}.
    """
    from transformers import AutoModel, AutoTokenizer

    model_dir = Path(model_dir)
    tok_path = model_dir / "tokenizer.json"
    if not tok_path.is_file():
        raise FileNotFoundError(f"{tok_path}: not found; trim_vocabulary needs a model "
                                f"directory with a fast tokenizer (tokenizer.json)")
    tok_json = json.loads(tok_path.read_text(encoding="utf-8"))
    _require_unigram(tok_json, tok_path)

    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] is {type(t).__name__}, not str")

    # 1. Which pieces do the texts use? Ask the tokenizer users will load (AutoTokenizer),
    # not the raw tokenizer.json: transformers may rebuild the pipeline around the vocab.
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if not tokenizer.is_fast:
        raise ValueError(f"{model_dir}: AutoTokenizer gives a slow tokenizer; a fast one is needed")
    encoded = _encode(tokenizer, texts)

    vocab = tok_json["model"]["vocab"]
    keep = {i for ids in encoded for i in ids}
    keep |= _special_ids(tok_json) | set(tokenizer.all_special_ids)
    # The lowest score fixes the <unk> score (see the module docstring).
    keep.add(min(range(len(vocab)), key=lambda i: vocab[i][1]))
    if keep_chars:
        keep |= {i for i, (piece, _) in enumerate(vocab) if len(piece) == 1}
    if tok_json["model"].get("byte_fallback"):
        # Byte fallback spells an unknown character as <0xNN> pieces: keep all 256.
        keep |= {i for i, (piece, _) in enumerate(vocab) if _BYTE_PIECE.fullmatch(piece)}
    new_json, remap = subset_unigram_tokenizer(tok_json, keep)
    kept = sorted(remap)

    # 2. The model: the kept rows of the word embeddings, in the new order.
    model, loading = AutoModel.from_pretrained(model_dir, output_loading_info=True)
    if loading["missing_keys"]:
        # e.g. BertModel's pooler when the checkpoint has none: transformers initialised
        # it randomly; we must not save those random weights as if they were pretrained.
        log.info("%s: not in the checkpoint, left out of the trimmed one too: %s",
                 model_dir, sorted(loading["missing_keys"]))
    if model.get_output_embeddings() is not None:
        raise ValueError(f"{model_dir}: {type(model).__name__} has output embeddings; "
                         f"only encoders (AutoModel without a head) are supported")
    emb = model.get_input_embeddings()
    original_rows = emb.weight.shape[0]
    if kept[-1] >= original_rows:
        raise ValueError(f"{model_dir}: the tokenizer uses id {kept[-1]} but the embedding "
                         f"matrix has only {original_rows} rows")
    _slice_embedding(emb, kept, remap, model.config)

    # 3. Write everything, then prove the tokenizer side before the directory appears.
    with io.atomic_path(out_dir) as tmp:
        tmp.mkdir()
        missing = set(loading["missing_keys"])
        state = {k: v for k, v in model.state_dict().items() if k not in missing}
        model.save_pretrained(tmp, state_dict=state)
        (tmp / "tokenizer.json").write_text(json.dumps(new_json, ensure_ascii=False),
                                            encoding="utf-8")
        _copy_tokenizer_files(model_dir, tmp, remap)
        _check_same_segmentation(tokenizer, encoded, texts, tmp, remap)

        stats = {"original_vocab": original_rows, "kept": len(kept), "texts": len(texts)}
        meta_path = model_dir / METADATA_FILE
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
        meta["parameters"] = sum(v.numel() for v in state.values())
        # No path of the untrimmed model: materialise() trims from a temporary folder, and a path
        # that differs on every run would change the output's DVC hash and rerun every training.
        meta["trimmed"] = {**stats, "keep_chars": keep_chars}
        (tmp / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    log.info("trimmed %s -> %s: %s", model_dir, out_dir, stats)
    return stats


def subset_unigram_tokenizer(tok_json: dict, keep_ids: Iterable[int]) -> tuple[dict, dict[int, int]]:
    """A copy of a Unigram tokenizer.json holding only `keep_ids`, in their original order.

    Returns (new tokenizer.json dict, {old id: new id}). Every place tokenizer.json names
    an id (unk_id, added_tokens, post_processor, padding) is remapped; all of those ids
    must be among `keep_ids`.
    """
    _require_unigram(tok_json, "tokenizer.json")
    keep = sorted(set(keep_ids))
    remap = {old: new for new, old in enumerate(keep)}
    vocab = tok_json["model"]["vocab"]
    n_ids = max([len(vocab)] + [t["id"] + 1 for t in tok_json.get("added_tokens") or []])
    if keep and (keep[0] < 0 or keep[-1] >= n_ids):
        raise ValueError(f"ids to keep must lie in [0, {n_ids}), got {keep[0]}..{keep[-1]}")

    def new_id(old: int, what: str) -> int:
        if old not in remap:
            raise ValueError(f"{what} has id {old}, which is not among the ids to keep")
        return remap[old]

    out = {k: v for k, v in tok_json.items() if k != "model"}
    out = copy.deepcopy(out)
    model = {k: v for k, v in tok_json["model"].items() if k != "vocab"}
    model["vocab"] = [vocab[i] for i in keep if i < len(vocab)]
    if model.get("unk_id") is not None:
        model["unk_id"] = new_id(model["unk_id"], "the unknown token")
    out["model"] = model
    # Added tokens past the model vocabulary keep their relative order, so sorting the
    # kept ids gives them the ids the tokenizers library assigns on loading.
    for tok in out.get("added_tokens") or []:
        tok["id"] = new_id(tok["id"], f"added token {tok['content']!r}")
    if out.get("post_processor") is not None:
        _remap_post_processor(out["post_processor"], new_id)
    if out.get("padding") and "pad_id" in out["padding"]:
        out["padding"]["pad_id"] = new_id(out["padding"]["pad_id"], "the padding token")
    return out, remap


# --------------------------------------------------------------------------- helpers

def _require_unigram(tok_json: dict, where) -> None:
    kind = (tok_json.get("model") or {}).get("type")
    if kind != "Unigram":
        raise ValueError(
            f"{where}: the tokenizer model is {kind!r}, not 'Unigram'. Vocabulary trimming is "
            f"only lossless for SentencePiece-Unigram tokenizers (XLM-R, mT5, ...): with BPE or "
            f"WordPiece, dropping an unused piece can change how other text is split.")


def _special_ids(tok_json: dict) -> set[int]:
    """Every id tokenizer.json names outside the vocabulary list."""
    ids = {t["id"] for t in tok_json.get("added_tokens") or []}
    if tok_json["model"].get("unk_id") is not None:
        ids.add(tok_json["model"]["unk_id"])
    if tok_json.get("post_processor") is not None:
        def record(i: int, _what: str) -> int:
            ids.add(i)
            return i
        _remap_post_processor(copy.deepcopy(tok_json["post_processor"]), record)
    if tok_json.get("padding") and "pad_id" in tok_json["padding"]:
        ids.add(tok_json["padding"]["pad_id"])
    return ids


def _remap_post_processor(pp: dict, new_id) -> None:
    """Rewrite, in place, the ids a post-processor inserts (<s>, </s>, [CLS], ...)."""
    kind = pp.get("type")
    if kind == "TemplateProcessing":
        for name, special in pp["special_tokens"].items():
            special["ids"] = [new_id(i, f"post-processor token {name!r}") for i in special["ids"]]
    elif kind in ("RobertaProcessing", "BertProcessing"):
        for key in ("cls", "sep"):
            token, old = pp[key]
            pp[key] = [token, new_id(old, f"post-processor token {token!r}")]
    elif kind == "Sequence":
        for sub in pp["processors"]:
            _remap_post_processor(sub, new_id)
    elif kind != "ByteLevel":  # ByteLevel only fixes offsets: no ids
        raise ValueError(f"post-processor type {kind!r} is not supported by vocabulary trimming")


def _encode(tokenizer, texts: list[str], batch: int = 2048) -> list[list[int]]:
    """Ids of every text, special tokens included, untruncated."""
    ids: list[list[int]] = []
    for start in range(0, len(texts), batch):
        ids += tokenizer(texts[start:start + batch], add_special_tokens=True, verbose=False,
                         return_attention_mask=False, return_token_type_ids=False)["input_ids"]
    return ids


def _slice_embedding(emb, kept: list[int], remap: dict[int, int], config) -> None:
    """Keep rows `kept` of `emb` in place (the module keeps its type and settings) and
    point the config's vocabulary size and token ids at the new rows."""
    import torch

    rows = torch.tensor(kept, dtype=torch.long)
    emb.weight = torch.nn.Parameter(emb.weight.detach()[rows].clone(),
                                    requires_grad=emb.weight.requires_grad)
    emb.num_embeddings = len(kept)
    if getattr(emb, "padding_idx", None) is not None:
        emb.padding_idx = remap.get(emb.padding_idx)
    config.vocab_size = len(kept)
    for field in _ID_FIELDS:
        old = getattr(config, field, None)
        if isinstance(old, int):
            # An id the tokenizer never produces (e.g. an unused pad id) cannot survive.
            setattr(config, field, remap.get(old))


def _copy_tokenizer_files(src: Path, dst: Path, remap: dict[int, int]) -> None:
    """Carry the tokenizer's side files over, remapping the ids they name."""
    config_path = src / _TOKENIZER_CONFIG
    if config_path.is_file():
        config = json.loads(config_path.read_text(encoding="utf-8"))
        decoder = config.get("added_tokens_decoder")
        if decoder:  # {"<id>": {...token...}}
            config["added_tokens_decoder"] = {str(remap[int(i)]): t for i, t in decoder.items()}
        (dst / _TOKENIZER_CONFIG).write_text(json.dumps(config, indent=2, ensure_ascii=False),
                                             encoding="utf-8")
    if (src / _SPECIAL_TOKENS_MAP).is_file():
        (dst / _SPECIAL_TOKENS_MAP).write_bytes((src / _SPECIAL_TOKENS_MAP).read_bytes())
    if (src / _ADDED_TOKENS).is_file():  # {"token": id}
        added = json.loads((src / _ADDED_TOKENS).read_text(encoding="utf-8"))
        (dst / _ADDED_TOKENS).write_text(
            json.dumps({t: remap[i] for t, i in added.items()}, ensure_ascii=False),
            encoding="utf-8")


def _check_same_segmentation(original, encoded: list[list[int]], texts: list[str],
                             trimmed_dir: Path, remap: dict[int, int]) -> None:
    """Re-tokenise every text with the trimmed tokenizer: the argument in the module
    docstring is checked, not trusted."""
    from transformers import AutoTokenizer

    trimmed = AutoTokenizer.from_pretrained(trimmed_dir)
    for name in ("bos_token", "eos_token", "unk_token", "pad_token", "cls_token",
                 "sep_token", "mask_token"):
        old = getattr(original, name + "_id", None)
        new = getattr(trimmed, name + "_id", None)
        if old is not None and remap.get(old) != new:
            raise RuntimeError(f"trimmed tokenizer: {name} has id {new}, expected {remap.get(old)}")
    for i, (old, new) in enumerate(zip(encoded, _encode(trimmed, texts))):
        if [remap[t] for t in old] != new:
            raise RuntimeError(
                f"trimmed tokenizer segments texts[{i}] differently: this is a bug in "
                f"trim_vocabulary ({texts[i][:80]!r})")
