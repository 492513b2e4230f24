"""Load the trained models once; analyse one sentence.

    models/<model>/sentiment/<lang>/      sentence classifier   (lang = en, hi, te)
    models/<model>/ner/<lang>/            IOB2 word tagger
    models/<mt_model>/translation/<hi|te>/  English -> Hindi / Telugu: an encoder-decoder or a
                                          fine-tuned generator; by default the one with the best
                                          measured dev chrF++ (demo.translation_model: auto)

The input language is the script of the sentence (text.detect_language); sentiment and NER use
that language's models. English is translated into Hindi and Telugu (the translation models are
English -> X only; Hindi and Telugu input is not translated). Speech: the Hindi translation for
English input, the sentence itself for Hindi and Telugu input.

One sentence is one forward pass per model under torch.inference_mode (no Trainer); NER reads
each word's tag from its first subword, as training labelled it (xlt.tasks.ner.align_labels).
Translation follows `demo` in params.yaml (demo/config.py): its decoding settings, the dtype the
translation weights are cast to once at load, a budget relative to the source length, and
whether the two translations run side by side on two threads (each with its own model and
tokenizer, so they share nothing). Sentences are serialised by a lock, so one Analyzer serves
concurrent requests: the fast tokenizers are not safe to share across threads.

With `translation_runtime: llama.cpp` (a generator only; `auto`, the commands' default, picks it
for a generator) the translation models are exported once to GGUF under <root>/.xlt-cache/gguf/
and run by llama.cpp (xlt.demo.llamacpp): same decoding, ~6x faster for one sentence (docs/demo.md).
"""
from __future__ import annotations

import dataclasses
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoTokenizer

from xlt import modelstore
from xlt.layout import Layout
from xlt.demo import text as textmod
from xlt.demo.config import DemoConfig
from xlt.demo.text import LANG_NAMES, SCRIPT_OF_LANG

LANGS = ("en", "hi", "te")
GGUF_CACHE = Path(".xlt-cache/gguf")     # under the repository root: exported translation models
MT_LANGS = ("hi", "te")
MAX_TOKENS = 512


def translation_models(p: dict) -> dict[str, str]:
    """Every declared translation model -> its family: encoder-decoders (translation.models) and
    fine-tuned generators (translation.generators)."""
    section = p.get("translation") or {}
    return {**{name: "encoder-decoder" for name in section.get("models") or {}},
            **{name: "generator" for name in section.get("generators") or {}}}


def best_translation_model(p: dict, root: Path) -> tuple[str, float]:
    """The translation model of the default run with the highest dev chrF++ (mean over Hindi and
    Telugu, measured by `mt-evaluate` on the first 200 FLORES-200 dev sentences)."""
    run = (p.get("run") or {}).get("translation") or {}
    measured = {}
    for name in list(run.get("models") or []) + list(run.get("generators") or []):
        chrf = []
        for lang in MT_LANGS:
            path = Layout(root).mt_metrics(name, lang)
            if path.exists():
                chrf.append((json.loads(path.read_text()).get("dev") or {}).get("chrf"))
        if len(chrf) == len(MT_LANGS) and None not in chrf:
            measured[name] = sum(chrf) / len(chrf)
    if not measured:
        raise ValueError("demo.translation_model is 'auto' but no translation model has its dev chrF++ measured "
                         "for both languages (metrics/<model>/translation/<lang>.json, written by `dvc repro "
                         "mt-evaluate mt-gen-evaluate`); name one with demo.translation_model or --mt-model")
    best = max(measured, key=measured.get)
    return best, measured[best]


def default_models(p: dict, model: str | None, mt_model: str | None, root: Path = Path(".")) -> tuple[str, str]:
    """--model defaults to the first of run.models; --mt-model to demo.translation_model, where
    'auto' means the best translation model by measured dev chrF++."""
    model = model or p["run"]["models"][0]
    if mt_model is None:
        mt_model = str((p.get("demo") or {}).get("translation_model", "auto"))
        if mt_model == "auto":
            mt_model, _ = best_translation_model(p, root)
    known = translation_models(p)
    if known and mt_model not in known:
        raise ValueError(f"params.yaml: no translation model '{mt_model}' under translation.models or "
                         f"translation.generators (known: {', '.join(known)}); choose one with --mt-model")
    return model, mt_model


def missing_models(root: Path, model: str, mt_model: str, mt_stage: str = "mt-train") -> list[str]:
    """One 'path (`dvc repro target`)' per model directory that is not there (the path relative to root)."""
    rel = Layout()
    wanted = [(rel.model(model, task, lang), f"train@{model}-{task}-{lang}")
              for lang in LANGS for task in ("sentiment", "ner")]
    wanted += [(rel.mt_model(mt_model, lang), f"{mt_stage}@{mt_model}-{lang}") for lang in MT_LANGS]
    return [f"{path} (`dvc repro {target}`)" for path, target in wanted
            if not (Path(root) / path / "config.json").exists()]


def cast_translation(model, dtype: str):
    """The translation model's weights as demo.translation_dtype says, once at load. int8: dynamic
    quantisation of every nn.Linear (int8 weights with one scale per output row, activations
    quantised on the fly). A generator's trimmed output layer (not an nn.Linear) and the embeddings
    stay float32: int8 logits cost Gemma 3 270M 2.5 more chrF++ on Hindi and were slower.
    Decoding one sentence reads every weight once per new token, so its time follows the bytes
    read. One scale per row rather than per matrix: Gemma 3 270M on 100 FLORES-200 dev sentences
    lost 0.5 / 1.0 chrF++ (hi / te) against 1.9 / 1.9, and was faster (docs/demo.md)."""
    if dtype == "bfloat16":
        return model.to(torch.bfloat16)
    if dtype == "int8":
        import warnings
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic
        with warnings.catch_warnings():   # torch marks eager quantisation deprecated; 2.13 (the pin) has it
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
    return model


class Translators:
    """The two translation models (English -> Hindi, Telugu) of one name, loaded once and run as the
    demo runs them: one sentence at a time with demo's decoding settings and runtime."""

    def __init__(self, root: Path, mt_model: str, config: DemoConfig):
        from xlt.translation import generator   # imported here: the CLI imports this module lazily too
        from xlt.translation import model as mt
        paths = Layout(root)
        is_gen = generator.is_generator(paths.mt_model(mt_model, MT_LANGS[0]))
        if config.translation_runtime == "auto":
            # llama.cpp runs generators only, and demo.translation_dtype int8/bfloat16 asks for torch
            fast = is_gen and config.translation_dtype == "float32"
            config = dataclasses.replace(config, translation_runtime="llama.cpp" if fast else "torch")
        if config.translation_runtime == "llama.cpp" and not is_gen:
            raise ValueError(f"the llama.cpp translation runtime runs fine-tuned generators only; {mt_model} is an "
                             f"encoder-decoder (use --translation-runtime torch, or a generator with --mt-model)")
        if config.translation_runtime == "llama.cpp" and config.translation_dtype != "float32":
            raise ValueError(f"demo.translation_dtype {config.translation_dtype} is for the torch runtime; under "
                             f"llama.cpp the weights are --gguf-weights (q8_0, f16, f32)")
        self.name, self.config, self._mt, self._gen = mt_model, config, mt, generator
        self.family = "generator" if is_gen else "encoder-decoder"
        self.models, self.fast = {}, {}
        for lang in MT_LANGS:
            d = paths.mt_model(mt_model, lang)
            if config.translation_runtime == "llama.cpp":
                from xlt.demo import llamacpp
                self.fast[lang] = llamacpp.Translator(d, lang, paths.root / GGUF_CACHE, config.gguf_weights,
                                                      threads=torch.get_num_threads())
                continue
            m, tok = (generator.load if is_gen else mt.load)(d)
            self.models[lang] = (cast_translation(m, config.translation_dtype), tok)
        self.runtime = f"llama.cpp, {config.gguf_weights}" if self.fast else f"torch, {config.translation_dtype}"

    def _tokenizer(self, lang: str):
        return self.fast[lang].tokenizer if self.fast else self.models[lang][1]

    def budget(self, lang: str, text: str) -> int:
        """The most new pieces the translation of `text` may have (demo.max_new_tokens_ratio)."""
        pieces = len(self._tokenizer(lang)(text)["input_ids"])
        return self.config.budget(pieces, generator=bool(self.fast) or self.family == "generator")

    def reached_budget(self, lang: str, text: str, out: str) -> bool:
        """Whether decoding of `out` stopped at its budget instead of at the end of the line (or of the
        sequence). Read off the output's length: a translation that stopped by itself is at least one
        piece, its stop, short of the budget; one that was cut fills it."""
        written = f" {out}" if (self.fast or self.family == "generator") else out   # as generator.encode_pair
        return len(self._tokenizer(lang)(written, add_special_tokens=False)["input_ids"]) >= self.budget(lang, text)

    def __call__(self, lang: str, text: str) -> str:
        budget = self.budget(lang, text)
        if self.fast:
            gen = self.config.generate
            return self.fast[lang].translate(text, budget, gen.no_repeat_ngram_size, gen.repetition_penalty)
        model, tok = self.models[lang]
        if self.family == "generator":
            decode = dataclasses.replace(self.config.generate, batch_size=1, max_new_tokens=budget)
            return self._gen.translate(model, tok, [text], lang, decode)[0]
        decode = dataclasses.replace(self.config.decode, max_new_tokens=budget)
        return self._mt.translate(model, tok, [text], decode)[0]


class Analyzer:
    """The six classifiers and two translation models of one model name, loaded once."""

    def __init__(self, root: Path, model: str, mt_model: str, config: DemoConfig):
        from xlt.translation import generator
        paths = Layout(root)
        is_gen = generator.is_generator(paths.mt_model(mt_model, MT_LANGS[0]))
        missing = missing_models(paths.root, model, mt_model, "mt-gen-train" if is_gen else "mt-train")
        if missing:
            raise FileNotFoundError(
                "the demo needs trained models that are missing: " + "; ".join(missing)
                + " (or `dvc pull <path>` where they were pushed to a remote)")
        self.model_name, self.mt_model_name, self.config = model, mt_model, config
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(len(MT_LANGS), "xlt-translate") if config.parallel_translation else None
        self.sentiment, self.ner = {}, {}
        self.translators = Translators(paths.root, mt_model, config)
        self.mt_family, self.runtime = self.translators.family, self.translators.runtime
        self.translation, self.fast = self.translators.models, self.translators.fast
        for lang in LANGS:
            d = paths.model(model, "sentiment", lang)
            self.sentiment[lang] = (AutoTokenizer.from_pretrained(d),
                                    modelstore.load(AutoModelForSequenceClassification, d))
            d = paths.model(model, "ner", lang)
            self.ner[lang] = (AutoTokenizer.from_pretrained(d), modelstore.load(AutoModelForTokenClassification, d))

    # ------------------------------------------------------------ one model each
    @staticmethod
    def _max_length(model) -> int:
        return min(MAX_TOKENS, int(getattr(model.config, "max_position_embeddings", MAX_TOKENS) or MAX_TOKENS))

    def _sentiment(self, lang: str, text: str) -> dict:
        tok, model = self.sentiment[lang]
        enc = tok(text, return_tensors="pt", truncation=True, max_length=self._max_length(model))
        probs = model(**enc).logits[0].float().softmax(-1).tolist()
        id2label = {int(k): v for k, v in model.config.id2label.items()}
        probabilities = {id2label[i]: round(p, 4) for i, p in enumerate(probs)}
        label = id2label[max(range(len(probs)), key=probs.__getitem__)]
        return {"label": label, "probabilities": probabilities}

    def _ner(self, lang: str, text: str) -> tuple[list[dict], list[dict]]:
        tok, model = self.ner[lang]
        ws = textmod.words(text)
        if not ws:
            return [], []
        enc = tok([w.text for w in ws], is_split_into_words=True, return_tensors="pt", truncation=True,
                  max_length=self._max_length(model))
        probs = model(**enc).logits[0].float().softmax(-1)
        id2label = {int(k): v for k, v in model.config.id2label.items()}
        tags, scores = ["O"] * len(ws), [1.0] * len(ws)   # words cut off by truncation stay O
        seen = set()
        for pos, w in enumerate(enc.word_ids(0)):
            if w is None or w in seen:
                continue
            seen.add(w)
            p, i = probs[pos].max(-1)
            tags[w], scores[w] = id2label[int(i)], round(float(p), 4)
        tokens = [{"text": w.text, "start": w.start, "end": w.end, "tag": t, "score": s}
                  for w, t, s in zip(ws, tags, scores)]
        return tokens, textmod.entities(text, ws, tags, scores)

    # ------------------------------------------------------------ the sentence
    def analyze(self, raw: str, translate: bool = True) -> dict:
        """Everything the demo shows for one sentence (InputError for text it does not take)."""
        text = textmod.clean(raw)
        lang, scripts = textmod.detect_language(text)
        timings: dict[str, float] = {}

        def timed(name, fn, *args):
            start = time.perf_counter()
            with torch.inference_mode():    # per thread: inference mode is thread-local
                value = fn(*args)
            timings[name] = round((time.perf_counter() - start) * 1000, 1)
            return value

        with self._lock:
            start = time.perf_counter()
            targets = MT_LANGS if lang == "en" and translate else ()
            pending = {}
            if self._pool:      # translations first: they are the long part
                pending = {t: self._pool.submit(timed, f"translation_{t}", self.translators, t, text) for t in targets}
            try:
                sentiment = timed("sentiment", self._sentiment, lang, text)
                tokens, ents = timed("ner", self._ner, lang, text)
            finally:            # never leave a translation running outside the lock
                translations = {t: future.result() for t, future in pending.items()}
            if not self._pool:
                translations = {t: timed(f"translation_{t}", self.translators, t, text) for t in targets}
            cut = {t: self.translators.reached_budget(t, text, out) for t, out in translations.items()}
            # Wall time of the whole sentence: with parallel translation it is less than the sum.
            timings["total"] = round((time.perf_counter() - start) * 1000, 1)
        return {"text": text, "lang": lang, "lang_name": LANG_NAMES[lang], "script": SCRIPT_OF_LANG[lang],
                "letters_per_script": scripts, "model": self.model_name, "translation_model": self.mt_model_name,
                "translation_family": self.mt_family, "translation_runtime": self.runtime,
                "sentiment": sentiment, "entities": ents, "tokens": tokens, "translations": translations,
                "translations_cut": cut,
                "speech": speech_choice(lang, text, translations), "timings_ms": timings}


def speech_choice(lang: str, text: str, translations: dict) -> dict | None:
    """What the demo speaks: the Hindi translation of English input, else the sentence itself."""
    if lang == "en":
        hindi = translations.get("hi", "")
        if not hindi.strip():
            return None
        return {"lang": "hi", "text": hindi, "what": "the Hindi translation"}
    return {"lang": lang, "text": text, "what": f"the original {LANG_NAMES[lang]} sentence"}


def format_table(r: dict) -> str:
    """The analysis as a readable two-column table (`xlt analyze`)."""
    rows = [("input", r["text"]),
            ("language", f"{r['lang_name']} ({r['lang']}, {r['script']} script)")]
    probs = ", ".join(f"{k} {v:.2f}" for k, v in sorted(r["sentiment"]["probabilities"].items(),
                                                        key=lambda kv: -kv[1]))
    rows.append(("sentiment", f"{r['sentiment']['label']}  ({probs})"))
    if r["entities"]:
        marked, last = [], 0
        for e in r["entities"]:
            marked.append(r["text"][last:e["start"]] + f"[{e['text']}]{e['type']}")
            last = e["end"]
        marked.append(r["text"][last:])
        rows.append(("entities", "".join(marked)))
        for e in r["entities"]:
            rows.append(("", f"{e['type']:<5} {e['type_name']:<13} {e['text']}  ({e['score']:.2f})"))
    else:
        rows.append(("entities", "none found"))
    if r["translations"]:
        for lang, t in r["translations"].items():
            cut = "  [stopped at the decoding budget: cut short]" if r.get("translations_cut", {}).get(lang) else ""
            rows.append((f"{LANG_NAMES[lang]} ({lang})", (t or "(empty)") + cut))
    else:
        rows.append(("translation", "none: the models translate English into Hindi and Telugu only"))
    rows.append(("models", f"{r['model']} (sentiment, NER), {r['translation_model']} "
                           f"({r.get('translation_family', 'encoder-decoder')}, translation; "
                           f"{r.get('translation_runtime', 'torch')}); "
                           f"{r['timings_ms']['total']:.0f} ms"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
