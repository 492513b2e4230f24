"""reports/report.md: the paper's Tables 1-3 filled with our test scores, beside the
classical baselines (Tables 1-2), the randomly initialised control (Table 3), the paper's own
figures and published results (references/published.yaml).

Missing metrics are shown as "not run", never invented.
"""
from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from xlt import io
from xlt.layout import Layout

LANG_NAMES = {"en": "English", "hi": "Hindi", "te": "Telugu"}
PAPER_SYSTEMS = {"mbert": "mBERT", "xlmr": "XLM-R"}


def _pct(v) -> str:
    return "—" if v is None else f"{100 * v:.1f}"


def _load_metrics(root: Path, system: str, task: str, lang: str) -> dict | None:
    path = Layout(root).metrics(system, task, lang)
    return io.read_json(path) if path.exists() else None


def _load_run_facts(root: Path, system: str, task: str, lang: str) -> dict | None:
    """Training examples, seconds, checkpoint …: beside the scores, not in them."""
    path = Layout.run_facts(Layout(root).metrics(system, task, lang))
    return io.read_json(path) if path.exists() else None


def _task_table(root: Path, task: str, langs: list[str], models: list[str], refs: dict, datasets: dict) -> list[str]:
    cols = ["accuracy", "precision", "recall", "f1"] if task == "sentiment" else ["precision", "recall", "f1"]
    headline = "accuracy" if task == "sentiment" else "f1"
    lines = ["| language | data (test n) | system | " + " | ".join(cols) + f" | Δ {headline} vs baseline |",
             "|---|---|---|" + "---:|" * (len(cols) + 1)]
    for lang in langs:
        data = datasets.get(task, {}).get(lang, "?")
        base = _load_metrics(root, "baseline", task, lang)
        base_label = "TF-IDF + logistic regression" if task == "sentiment" else "CRF"
        rows = [(f"baseline: {base_label}", base)] + [(m, _load_metrics(root, m, task, lang)) for m in models]
        n = next((r["n"] for _, r in rows if r), None)
        for system, r in rows:
            if r is None:
                lines.append(f"| {LANG_NAMES[lang]} | {data} | {system} | " + " | ".join("not run" for _ in cols) + " | |")
                continue
            delta = ""
            if base is not None and not system.startswith("baseline"):
                delta = f"{100 * (r[headline] - base[headline]):+.1f}"
            lines.append(f"| {LANG_NAMES[lang]} | {data} ({n}) | **{system}** | "
                         + " | ".join(_pct(r.get(c)) for c in cols) + f" | {delta} |")
        for key, name in PAPER_SYSTEMS.items():
            v = refs["paper"].get(task, {}).get(lang, {}).get(name)
            if v is not None:
                lines.append(f"| {LANG_NAMES[lang]} | not named | paper's {name} | "
                             + " | ".join(f"{v:.1f}" if c == headline else "" for c in cols) + " | |")
        for ref in refs["published"].get(task, {}).get(lang, []):
            lines.append(f"| {LANG_NAMES[lang]} | {ref['data']} | published {ref['system']} ({ref['setting']}) | "
                         + " | ".join(f"{ref['value']:.2f}" if c == ref["metric"] else "" for c in cols)
                         + f" | [{ref['source']}] |")
    return lines


def _data_table(root: Path, tasks: list[str], langs: list[str]) -> list[str]:
    lines = ["| task | language | dataset | split | train | dev | test | repairs (count by kind) | dropped by cleaning |",
             "|---|---|---|---|---:|---:|---:|---|---|"]
    for task in tasks:
        for lang in langs:
            path = Layout(root).prepared(task, lang) / "report.json"
            if not path.exists():
                continue
            r = io.read_json(path)
            sizes = r["split"]["sizes"]
            repairs = ", ".join(f"{k} {v['count']}" for k, v in r["repairs"].items()) or "none"
            dropped = ", ".join(f"{s}: {c['read'] - c['kept']}" for s, c in r["cleaning"].items() if c["read"] != c["kept"])
            lines.append(f"| {task} | {lang} | {r['dataset']} | {r['split']['mode']} | {sizes['train']} | "
                         f"{sizes['dev']} | {sizes['test']} | {repairs} | {dropped or 'none'} |")
    return lines


def _timing_table(root: Path, tasks: list[str], langs: list[str], models: list[str]) -> list[str]:
    lines = ["| model | task | language | train examples | train seconds | parameters |",
             "|---|---|---|---:|---:|---:|"]
    for m in models:
        for task in tasks:
            for lang in langs:
                r = _load_run_facts(root, m, task, lang)
                if r and "train" in r:
                    t = r["train"]
                    lines.append(f"| {m} | {task} | {lang} | {t['examples']} | {t['seconds']} | {t.get('parameters', '')} |")
    return lines


def _translation_table(root: Path, langs: list[str], models: list[str], refs: dict) -> list[str]:
    lines = ["| English -> | test set (sentences) | system | initialisation | train pairs | steps | train min | "
             "dev chrF++ | BLEU | chrF++ | distinct % | in script % |",
             "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    signatures: set[str] = set()

    def pct(v):
        return "" if v is None else f"{100 * v:.0f}"

    for lang in langs:
        for m in models:
            r = _load_metrics(root, m, "translation", lang)
            if r is None:
                lines.append(f"| {LANG_NAMES[lang]} | | {m} | | | | | | not run | not run | | |")
                continue
            # The stage that writes the metrics writes the run facts beside them: both or neither.
            t, dev = _load_run_facts(root, m, "translation", lang)["train"], r.get("dev") or {}
            dev_chrf = f"{dev['chrf']:.1f}" if "chrf" in dev else ""
            for name, s in r["test_sets"].items():
                lines.append(f"| {LANG_NAMES[lang]} | {name} ({s['sentences']}) | **{m}** | {t['init']} | "
                             f"{t['examples']} | {t.get('steps', '')} | {t['seconds'] / 60:.0f} | {dev_chrf} | "
                             f"{s['bleu']:.1f} | {s['chrf']:.1f} | {pct(s.get('distinct'))} | "
                             f"{pct(s.get('in_script'))} |")
                signatures.update(f"{k}: `{v}`" for k, v in s["signature"].items())
        for name, v in refs["paper"].get("translation", {}).get(lang, {}).items():
            lines.append(f"| {LANG_NAMES[lang]} | not named | paper's {name} | | | | | | {v:.1f} | | | |")
        for ref in refs["published"].get("translation", {}).get(lang, []):
            bleu = ref["value"] if ref["metric"] == "bleu" else ref.get("bleu")
            chrf = ref["value"] if ref["metric"] == "chrf" else ref.get("chrf")
            lines.append(f"| {LANG_NAMES[lang]} | {ref['data']} | published {ref['system']} ({ref['setting']}) | | "
                         f"{ref.get('pairs', '')} | | | | {'' if bleu is None else f'{bleu:.1f}'} | "
                         f"{'' if chrf is None else f'{chrf:.1f}'} | | |")
    lines += ["", "sacreBLEU signatures: " + "; ".join(sorted(signatures)) if signatures else ""]
    return lines


def write_report(params: dict, root: Path = Path("."), refs_path: Path | None = None) -> Path:
    root = Path(root)
    refs = YAML(typ="safe").load((refs_path or Layout(root).published()).read_text(encoding="utf-8"))
    run = params["run"]
    models, tasks, langs = run["models"], run["tasks"], run["langs"]
    datasets = params["data"]["datasets"]
    out = [f"# {params.get('report', {}).get('title', 'xlt report')}", "",
           "Test-set scores in percent, written by `dvc repro report` from `metrics/`. "
           "Δ is the transformer's gain over the classical baseline on the same split. "
           "The paper's figures name no test sets and are far above every published number for the same "
           "data: they are printed for reference, not as targets. Published figures marked 'different data' "
           "are on other corpora (WikiANN, PAN-X) and only indicate scale.", ""]
    if "sentiment" in tasks:
        out += ["## Table 1: sentiment analysis (accuracy, macro precision/recall/F1)", ""]
        out += _task_table(root, "sentiment", langs, models, refs, datasets) + [""]
    if "ner" in tasks:
        out += ["## Table 2: named entity recognition (entity-level precision/recall/F1, seqeval)", ""]
        out += _task_table(root, "ner", langs, models, refs, datasets) + [""]
    mt = run.get("translation") or {}
    mt_models = list(mt.get("models") or []) + list(mt.get("generators") or [])
    if mt_models:
        out += ["## Table 3: English->Hindi / English->Telugu translation (sacreBLEU BLEU, chrF++)", "",
                "Our encoder-decoders are warm-started from the encoder (Rothe et al. 2020) or, as the control, "
                "the same architecture randomly initialised, and trained in two stages (first only the new "
                "cross-attention and output transform, then everything; Imamura & Sumita 2019) on a CPU. "
                "'pretrained generator': a pretrained multilingual language model (Gemma 3 270M) fine-tuned on "
                "the pairs with the loss on the target side, decoded greedily (xlt.translation.generator). "
                "FLORES-200 devtest is the headline test set; the second set per language may be its first N "
                "sentences (see params.yaml). Dev chrF++: the first 200 FLORES-200 dev sentences, decoded as "
                "for the test; the demo translates with the best of these. Distinct: the share of different "
                "hypotheses (a model writing one sentence for every input scores near 0); in script: the "
                "share with at least half their letters in the target script. Published anchors are on "
                "FLORES-200 devtest unless named otherwise and come from far more data; IndicTrans v1 was "
                "scored on FLORES-101 devtest with its own tokenisation, so its BLEU is indicative only. "
                "Samples: `reports/samples/<model>/translation/<lang>.md`; dev chrF++ against training steps: "
                "`dvc plots show plots/mt_dev_chrf`.", ""]
        out += _translation_table(root, mt.get("langs", []), mt_models, refs) + [""]
    out += ["## Data", "", "Every repair and drop made while reading and cleaning "
            "(details with examples in `data/prepared/<task>/<lang>/report.json`).", ""]
    out += _data_table(root, tasks, langs) + [""]
    out += ["## Training cost", ""] + _timing_table(root, tasks, langs, models)
    for m in mt_models:
        for lang in mt.get("langs", []):
            r = _load_run_facts(root, m, "translation", lang)
            if r:
                t = r["train"]
                out.append(f"| {m} | translation | {lang} | {t['examples']} | {t['seconds']} | {t['parameters']} |")
    out += [""]
    path = Layout(root).report()
    io.write_text(path, "\n".join(out))
    return path
