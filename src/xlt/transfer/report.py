"""reports/transfer/<task>.md, its learning-curve figure (reports/transfer/<task>.png) and the curves'
DVC plot data (plots/transfer/curves/<task>/<lang>/<arm>.json), from metrics/transfer/.

Everything shown is read from the metrics files; a missing file is shown as "not run".
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from ruamel.yaml import YAML

from xlt import io
from xlt.layout import Layout
from xlt.transfer.paths import matrix_metrics

LANG_NAMES = {"en": "English", "hi": "Hindi", "te": "Telugu"}
ARM_NAMES = {"sequential": "English, then k target", "target": "k target only",
             "joint": "English + k target together", "embed-lr": "embeddings + logistic regression"}
TASK_NAMES = {"sentiment": "Sentiment (positive/negative)", "ner": "NER (PER/LOC/ORG)"}


def _pct(v) -> str:
    return "—" if v is None else f"{100 * v:.1f}"


def _read(path: Path):
    return io.read_json(path) if path.exists() else None


def _mean_std(values: list[float]) -> tuple[float, float]:
    a = np.array(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def _ms(values: list[float]) -> str:
    if not values:
        return "not run"
    m, s = _mean_std(values)
    return f"{100 * m:.1f} ± {100 * s:.1f} ({100 * min(values):.1f}–{100 * max(values):.1f})"


def zeroshot_rows(root: Path, p: dict, task: str) -> dict:
    """lang -> list of per-seed score dicts."""
    t = p["transfer"]
    out: dict = {}
    for seed in t["seeds"]:
        m = _read(Layout(root).zeroshot_metrics(task, seed))
        if m is None:
            continue
        for lang in ["en"] + list(t["targets"]):
            if lang in m:
                out.setdefault(lang, []).append(m[lang])
    return out


def _zeroshot_table(root: Path, p: dict, task: str) -> list[str]:
    rows = zeroshot_rows(root, p, task)
    n = len(p["transfer"]["seeds"])
    if task == "sentiment":
        lines = ["| test set | items | accuracy | macro-F1 | majority class: accuracy / macro-F1 | 95% CI of macro-F1 (bootstrap, seed mean) | one item = |",  # noqa: E501 (a table header)
                 "|---|---:|---:|---:|---:|---|---:|"]
    else:
        lines = ["| test set | sentences / entities | strict F1 | overlap F1 | PER | LOC | ORG | 95% CI of strict F1 (bootstrap, seed mean) | one entity = recall points |",  # noqa: E501 (a table header)
                 "|---|---:|---:|---:|---:|---:|---:|---|---:|"]
    for lang in ["en"] + list(p["transfer"]["targets"]):
        seeds = rows.get(lang, [])
        if not seeds:
            lines.append(f"| {LANG_NAMES[lang]} | not run |")
            continue
        s0 = seeds[0]
        ci = np.mean([s["ci95"]["f1"] for s in seeds], axis=0)
        if task == "sentiment":
            maj = s0["majority"]
            lines.append(f"| {LANG_NAMES[lang]} | {s0['n']} | {_ms([s['accuracy'] for s in seeds])} | "
                         f"{_ms([s['f1'] for s in seeds])} | {100 * maj['accuracy']:.1f} / {100 * maj['f1']:.1f} | "
                         f"{100 * ci[0]:.1f}–{100 * ci[1]:.1f} | {s0['worth']['one_item_accuracy_points']:.2f} pt |")
        else:
            per = {ty: _ms([s["per_type"].get(ty, {}).get("f1", 0.0) for s in seeds]).split(" (")[0]
                   for ty in ("PER", "LOC", "ORG")}
            support = {ty: s0["per_type"].get(ty, {}).get("support", 0) for ty in ("PER", "LOC", "ORG")}
            lines.append(f"| {LANG_NAMES[lang]} | {s0['n']} / {s0['entities']} | {_ms([s['f1'] for s in seeds])} | "
                         f"{_ms([s['overlap']['f1'] for s in seeds])} | "
                         + " | ".join(f"{per[ty]} (n={support[ty]})" for ty in ("PER", "LOC", "ORG"))
                         + f" | {100 * ci[0]:.1f}–{100 * ci[1]:.1f} | {s0['worth']['one_entity_recall_points']:.2f} |")
    lines.append("")
    lines.append(f"Mean ± standard deviation over {n} English training seeds (min–max in brackets); the epoch of each "
                 f"English model was chosen on English dev only.")
    return lines


def curve_points(root: Path, p: dict, task: str, lang: str) -> list[dict]:
    """[{k, arm -> (mean, std, min, max), ...}] with k = 0 from the zero-shot models."""
    t = p["transfer"]
    points = []
    zs = zeroshot_rows(root, p, task).get(lang, [])
    if zs:
        m, s = _mean_std([x["f1"] for x in zs])
        vals = [x["f1"] for x in zs]
        points.append({"k": "0", "sequential": (m, s, min(vals), max(vals))})
    for k in t["fewshot"]["ks"]:
        m = _read(Layout(root).fewshot_metrics(task, lang, k))
        if m is None:
            continue
        row = {"k": str(k), "k_sentences": m.get("k_sentences"), "k_entities": m.get("k_entities"),
               "draws": m.get("draws")}
        for arm in ARM_NAMES:
            if arm in m:
                f = m[arm]["f1"]
                row[arm] = (f["mean"], f["std"], f["min"], f["max"])
        points.append(row)
    return points


def _curve_table(root: Path, p: dict, task: str, lang: str) -> list[str]:
    pts = curve_points(root, p, task, lang)
    arms = [a for a in ARM_NAMES if any(a in r for r in pts)]
    header = "| k | draws | " + ("entities in the sample (mean) | " if task == "ner" else "") \
        + " | ".join(ARM_NAMES[a] for a in arms) + " |"
    lines = [header, "|---:|---:|" + ("---:|" if task == "ner" else "") + "---:|" * len(arms)]
    for r in pts:
        ent = ""
        if task == "ner":
            ent = f"{r['k_entities']['mean']:.0f} | " if r.get("k_entities") else "0 | "
        cells = [(f"{100 * r[a][0]:.1f} ± {100 * r[a][1]:.1f} ({100 * r[a][2]:.1f}–{100 * r[a][3]:.1f})"
                  if a in r else "") for a in arms]
        lines.append(f"| {r['k']} | {r.get('draws') or len(p['transfer']['seeds'])} | {ent}" + " | ".join(cells) + " |")
    inl = _read(Layout(root).inlang_metrics(task, lang))
    if inl:      # all target data, no English: the target-only arm's column
        cells = [_pct(inl["f1"]) if a == "target" else "" for a in arms]
        lines.append("| all (in-language model, main pipeline) | 1 | " + ("| " if task == "ner" else "")
                     + " | ".join(cells) + " |")
    return lines


def _plot_data(root: Path, p: dict, task: str, lang: str) -> None:
    """DVC plot rows, one file per arm (plots/transfer/curves/<task>/<lang>/<arm>.json: k and the
    mean score over draws), so that dvc.yaml can draw the arms as lines of one plot."""
    folder = Layout(root).transfer_curves(task, lang)
    rows: dict[str, list] = {}
    for r in curve_points(root, p, task, lang):
        for arm in ARM_NAMES:
            if arm in r:
                rows.setdefault(arm, []).append({"k": int(r["k"]) if r["k"] != "all" else -1,
                                                 "f1": round(100 * r[arm][0], 2)})
    for arm, arm_rows in rows.items():
        io.write_json(folder / f"{arm}.json", arm_rows)


def _figure(root: Path, p: dict, task: str) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = list(p["transfer"]["targets"])
    fig, axes = plt.subplots(1, len(targets), figsize=(5.5 * len(targets), 4), squeeze=False)
    for ax, lang in zip(axes[0], targets):
        pts = curve_points(root, p, task, lang)
        ks = [r["k"] for r in pts]
        # k on a log axis with 0 drawn one step left of the smallest k, 'all' one step right.
        numeric = sorted({int(k) for k in ks if k not in ("0", "all")}) or [10]
        lo, hi = min(numeric), max(numeric)
        pos = {k: (lo / 3 if k == "0" else hi * 3 if k == "all" else int(k)) for k in ks}
        for arm in ARM_NAMES:
            xs = [pos[r["k"]] for r in pts if arm in r]
            if not xs:
                continue
            mean = np.array([r[arm][0] for r in pts if arm in r]) * 100
            std = np.array([r[arm][1] for r in pts if arm in r]) * 100
            ax.plot(xs, mean, marker="o", label=ARM_NAMES[arm])
            ax.fill_between(xs, mean - std, mean + std, alpha=0.2)
        inl = _read(Layout(root).inlang_metrics(task, lang))
        if inl:
            ax.axhline(100 * inl["f1"], color="black", linestyle="--", linewidth=1, label="in-language model (all data)")
        zs = zeroshot_rows(root, p, task).get(lang, [])
        if task == "sentiment" and zs:
            ax.axhline(100 * zs[0]["majority"]["f1"], color="grey", linestyle=":", linewidth=1,
                       label="majority class")
        ax.set_xscale("log")
        ax.set_xticks(sorted(pos.values()))
        ax.set_xticklabels([k for k, _ in sorted(pos.items(), key=lambda kv: kv[1])])
        ax.set_xlabel("target training examples k (0 = zero-shot)")
        ax.set_ylabel("macro-F1" if task == "sentiment" else "strict F1 (PER/LOC/ORG)")
        ax.set_title(f"{TASK_NAMES[task]}: English -> {LANG_NAMES[lang]}")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path = Layout(root).transfer_figure(task)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path


def _gap_table(root: Path, p: dict, refs: dict, tasks: list[str]) -> list[str]:
    lines = ["| task | target | English (zero-shot models) | target zero-shot | gap | best few-shot (k, arm) | gap after few-shot |",  # noqa: E501 (a table header)
             "|---|---|---:|---:|---:|---|---:|"]
    for task in tasks:
        zs = zeroshot_rows(root, p, task)
        en = [x["f1"] for x in zs.get("en", [])]
        for lang in p["transfer"]["targets"]:
            tgt = [x["f1"] for x in zs.get(lang, [])]
            if not en or not tgt:
                lines.append(f"| {task} | {LANG_NAMES[lang]} | not run | | | | |")
                continue
            e, z = np.mean(en), np.mean(tgt)
            best = None
            for r in curve_points(root, p, task, lang):
                if r["k"] == "0":
                    continue
                for arm in ARM_NAMES:
                    if arm in r and (best is None or r[arm][0] > best[0]):
                        best = (r[arm][0], r["k"], arm)
            few = f"{100 * best[0]:.1f} (k={best[1]}, {ARM_NAMES[best[2]]})" if best else "not run"
            gap_few = f"{100 * (e - best[0]):.1f}" if best else ""
            lines.append(f"| {task} | {LANG_NAMES[lang]} | {100 * e:.1f} | {100 * z:.1f} | **{100 * (e - z):.1f}** | "
                         f"{few} | {gap_few} |")
    lines += ["", "Published gaps for scale (other data and models; English score minus target score):", "",
              "| system | task | data | en | hi (gap) | te (gap) | source |", "|---|---|---|---:|---:|---:|---|"]
    for g in (g for g in refs.get("transfer_gaps", []) if g["task"] in tasks):
        cells = [f"{g[x]:.1f} ({g['en'] - g[x]:.1f})" if x in g else "—" for x in ("hi", "te")]
        lines.append(f"| {g['system']} | {g['task']} | {g['data']} | {g['en']:.1f} | {cells[0]} | {cells[1]} | {g['source']} |")
    return lines


def multilingual_rows(root: Path, p: dict, task: str) -> list[dict]:
    """Per language: the multilingual model's score beside the per-language model's (English: the
    source models, same recipe without Hindi and Telugu, mean over seeds; targets: the in-language
    models of the main pipeline)."""
    m = _read(Layout(root).multilingual_metrics(task))
    if m is None:
        return []
    zs = zeroshot_rows(root, p, task)
    rows = []
    for lang in ["en"] + list(p["transfer"]["targets"]):
        if lang not in m:
            continue
        row = {"lang": lang, "multi": m[lang], "examples": m["examples"]["train"].get(lang)}
        if lang == "en":
            en = [x["f1"] for x in zs.get("en", [])]
            if en:
                row["separate"] = _mean_std(en) + (len(en),)
                row["separate_name"] = f"English source models ({len(en)} seeds, same recipe)"
        else:
            inl = _read(Layout(root).inlang_metrics(task, lang))
            if inl:
                row["separate"] = (inl["f1"], 0.0, 1)
                row["separate_name"] = "in-language model (main pipeline, all its data)"
        rows.append(row)
    return rows


def _multilingual_table(root: Path, p: dict, task: str) -> list[str]:
    rows = multilingual_rows(root, p, task)
    if not rows:
        return ["not run (`dvc repro transfer-multilingual@" + task + "`)"]
    m = _read(Layout(root).multilingual_metrics(task))
    # Written with the metrics by the same stage: a missing file is an error, not a blank.
    seconds = io.read_json(Layout.run_facts(Layout(root).multilingual_metrics(task)))["train_seconds"]
    lines = [f"Trained on {', '.join(f'{LANG_NAMES[l]} {n}' for l, n in m['examples']['train'].items())} examples "
             f"shuffled together (`transfer.multilingual.caps`), with the English source models' settings; epoch "
             f"{m['selection']['epoch']:.0f} chosen on the three dev sets together; {seconds / 60:.1f} min "
             f"of training.", "",
             "| language | multilingual model | 95% CI | per-language model | which | multilingual − per-language |",
             "|---|---:|---|---:|---|---:|"]
    for r in rows:
        s = r["multi"]
        sep = r.get("separate")
        sep_cell = "not run" if sep is None else (f"{100 * sep[0]:.1f}" + (f" ± {100 * sep[1]:.1f}" if sep[2] > 1 else ""))
        delta = "" if sep is None else f"{100 * (s['f1'] - sep[0]):+.1f}"
        lines.append(f"| {LANG_NAMES[r['lang']]} | {_pct(s['f1'])} | {_pct(s['ci95']['f1'][0])}–{_pct(s['ci95']['f1'][1])} | "
                     f"{sep_cell} | {r.get('separate_name', '')} | {delta} |")
    return lines


def _multilingual_finding(root: Path, p: dict, task: str) -> list[str]:
    rows = {r["lang"]: r for r in multilingual_rows(root, p, task)}
    en = rows.get("en")
    if not en or "separate" not in en:
        return []
    mean, std, n = en["separate"]
    diff = en["multi"]["f1"] - mean
    verdict = ("English regresses" if diff < -max(2 * std, 0.005) else
               "English improves" if diff > max(2 * std, 0.005) else
               "English does not regress" if diff >= -max(std, 0.005) else "English regresses slightly")
    bits = [f"- **One model for three languages ({TASK_NAMES[task]})**: {verdict}: {100 * en['multi']['f1']:.1f} "
            f"against {100 * mean:.1f} ± {100 * std:.1f} for the English-only models ({diff * 100:+.1f})"]
    for lang in p["transfer"]["targets"]:
        r = rows.get(lang)
        if r and "separate" in r:
            bits.append(f"; {LANG_NAMES[lang]} {100 * r['multi']['f1']:.1f} against {100 * r['separate'][0]:.1f} "
                        f"in-language ({100 * (r['multi']['f1'] - r['separate'][0]):+.1f})")
        elif r:
            bits.append(f"; {LANG_NAMES[lang]} {100 * r['multi']['f1']:.1f} (in-language model not run)")
    return ["".join(bits) + "."]


def _data_table(root: Path, p: dict, tasks: list[str]) -> list[str]:
    lines = ["| task | language | train | dev | test | dropped (neutral) | sentences with an entity (train / test) | entities in test after mapping |",  # noqa: E501 (a table header)
             "|---|---|---:|---:|---:|---|---:|---|"]
    for task in tasks:
        for lang in ["en"] + list(p["transfer"]["targets"]):
            r = _read(Layout(root).transfer_data(task, lang) / "report.json")
            if r is None:
                continue
            sp = r["splits"]
            if task == "sentiment":
                dropped = ", ".join(f"{s}: {sum(c['dropped'].values())}" for s, c in sp.items() if c["dropped"])
                lines.append(f"| {task} | {lang} | {sp['train']['kept']} | {sp['dev']['kept']} | {sp['test']['kept']} | "
                             f"{dropped or 'none'} | | |")
            else:
                after = ", ".join(f"{k} {v}" for k, v in sp["test"]["entities_after"].items())
                lines.append(f"| {task} | {lang} | {sp['train']['kept']} | {sp['dev']['kept']} | {sp['test']['kept']} | | "
                             f"{sp['train']['with_entity']} / {sp['test']['with_entity']} | {after} |")
    return lines


def _findings(root: Path, p: dict, tasks: list[str]) -> list[str]:
    """Sentences computed from the numbers (what a reader should take away)."""
    out = []
    for task in tasks:
        zs = zeroshot_rows(root, p, task)
        for lang in p["transfer"]["targets"]:
            tgt = zs.get(lang, [])
            if not tgt:
                continue
            z = np.mean([x["f1"] for x in tgt])
            pts = {r["k"]: r for r in curve_points(root, p, task, lang)}
            bits = [f"**{TASK_NAMES[task]}, {LANG_NAMES[lang]}**: zero-shot {100 * z:.1f}"]
            if task == "sentiment":
                bits.append(f"(majority class {100 * tgt[0]['majority']['f1']:.1f} macro-F1)")
            else:
                bits.append(f"(overlap F1 {100 * np.mean([x['overlap']['f1'] for x in tgt]):.1f}: "
                            f"{100 * (np.mean([x['overlap']['f1'] for x in tgt]) - z):.1f} points are boundary conventions;")
                # Where transfer fails: the weakest type, with what one entity of it is worth.
                per = {ty: np.mean([x["per_type"].get(ty, {}).get("f1", 0.0) for x in tgt])
                       for ty in tgt[0]["per_type"]}
                if per:
                    weak = min(per, key=per.get)
                    n = tgt[0]["per_type"][weak]["support"]
                    bits.append(f"weakest type {weak}: F1 {100 * per[weak]:.1f} on {n} entities, one of which is worth "
                                f"{100 / max(n, 1):.1f} points of its recall)")
            for k in ("10", "100", "1000"):
                r = pts.get(k)
                if r and "sequential" in r and "target" in r:
                    bits.append(f"; k={k}: English-then-target {100 * r['sequential'][0]:.1f} vs target alone "
                                f"{100 * r['target'][0]:.1f}" + (f", joint {100 * r['joint'][0]:.1f}" if "joint" in r else ""))
            out.append("- " + " ".join(bits).replace(" ;", ";") + ".")
    return out


def matrix_cells(root: Path, p: dict, task: str) -> dict:
    """(source, test language) -> score dict: transfer-matrix off the diagonal, transfer-inlang on it."""
    langs = ["en"] + list(p["transfer"]["targets"])
    cells = {}
    for src in langs:
        m = _read(matrix_metrics(root, task, src)) or {}
        for tgt in langs:
            s = _read(Layout(root).inlang_metrics(task, tgt)) if src == tgt else m.get(tgt)
            if s is not None:
                cells[src, tgt] = s
    return cells


def _matrix_table(root: Path, p: dict, task: str) -> list[str]:
    langs = ["en"] + list(p["transfer"]["targets"])
    cells = matrix_cells(root, p, task)
    lines = ["| model trained on | " + " | ".join(f"{LANG_NAMES[l]} test" for l in langs) + " |",
             "|---|" + "---:|" * len(langs)]
    for src in langs:
        row = []
        for tgt in langs:
            s = cells.get((src, tgt))
            text = "not run" if s is None else (f"{_pct(s['f1'])} ({_pct(s['ci95']['f1'][0])}–{_pct(s['ci95']['f1'][1])})")
            row.append(f"**{text}**" if src == tgt and s is not None else text)
        lines.append(f"| {LANG_NAMES[src]} | " + " | ".join(row) + " |")
    return lines


def _matrix_finding(root: Path, p: dict, task: str) -> list[str]:
    """Per target: the best other source against English (the zero-shot models' mean) and in-language."""
    cells = matrix_cells(root, p, task)
    zs = zeroshot_rows(root, p, task)
    out = []
    for tgt in p["transfer"]["targets"]:
        others = {src: cells[src, tgt]["f1"] for src in p["transfer"]["targets"] if src != tgt and (src, tgt) in cells}
        if not others or (tgt, tgt) not in cells:
            continue
        src = max(others, key=others.get)
        english = (f"English zero-shot {100 * np.mean([x['f1'] for x in zs[tgt]]):.1f} (mean of "
                   f"{len(zs[tgt])} source models)" if zs.get(tgt) else "English zero-shot not run")
        if ("en", tgt) in cells:
            english += f", the main pipeline's English model {_pct(cells['en', tgt]['f1'])}"
        out.append(f"- **{TASK_NAMES[task]}, {LANG_NAMES[tgt]}, from {LANG_NAMES[src]}**: the {LANG_NAMES[src]} "
                   f"in-language model scores {_pct(others[src])} on {LANG_NAMES[tgt]} test, against {english} and "
                   f"{LANG_NAMES[tgt]}'s own model {_pct(cells[tgt, tgt]['f1'])} (one model each; language matrix below).")
    return out


def projection_metrics(root: Path, lang: str) -> Path:
    """metrics/transfer/projection/ner/<lang>.json (written by xlt.transfer.projection, whose
    metrics_path spells it the same way; importing it here would tie this stage to its code)."""
    return Layout(root).inlang_metrics("ner", lang).parents[2] / "projection" / "ner" / f"{lang}.json"


def _projection_section(root: Path, p: dict) -> list[str]:
    """NER: each English model against itself fine-tuned on its tags projected onto parallel text."""
    rows, lines = [], []
    for lang in p["transfer"]["targets"]:
        m = _read(projection_metrics(root, lang))
        if m is None:
            rows.append(f"| {LANG_NAMES[lang]} | not run | | | | |")
            continue
        z = [r["zeroshot"]["f1"] for r in m["runs"]]
        q = [r["projected"]["f1"] for r in m["runs"]]
        gains = [b - a for a, b in zip(z, q)]
        rows.append(f"| {LANG_NAMES[lang]} | {_ms(z)} | **{_ms(q)}** | "
                    f"{_ms([r['projected']['overlap']['f1'] for r in m['runs']])} | "
                    f"{', '.join(f'{100 * g:+.1f}' for g in gains)} | "
                    f"{', '.join(str(r['train_sentences']) for r in m['runs'])} |")
        mean_gain, spread = _mean_std(gains)[0], _mean_std(z)[1]
        verdict = ("gains on every seed" if min(gains) > 0 else "loses on every seed" if max(gains) < 0
                   else "moves both ways over the seeds")
        lines.append(f"- {LANG_NAMES[lang]}: {100 * mean_gain:+.1f} points on the mean; it {verdict}"
                     f"{' (within the zero-shot seed spread of ' + f'{100 * spread:.1f})' if abs(mean_gain) <= spread else ''}.")
    if not lines:           # no target's projection has run
        return []
    return ["## Annotation projection (no target label; translate-train, not zero-shot)", "",
            "Each English model tags the English side of the target language's parallel training pairs; the tags "
            "are carried over a word alignment made with the pretrained encoder, and the model is fine-tuned once on "
            "the silver target sentences (`dvc repro transfer-project`, settings in `params-projection.yaml`). "
            "Strict F1, mean ± std over the English seeds (min–max); the zero-shot column is the same models before "
            "fine-tuning.", "",
            "| target | zero-shot (same models) | projected | projected overlap F1 | gain per seed | silver sentences |",
            "|---|---:|---:|---:|---|---|", *rows, "", *lines, ""]


def write_report(p: dict, root: Path, task: str) -> Path:
    root = Path(root)
    refs = YAML(typ="safe").load(Layout(root).published().read_text(encoding="utf-8"))
    t = p["transfer"]
    lab = t["labels"]
    tasks = [task]
    space = (f"{{{', '.join(lab['sentiment']['classes'])}}} (neutral target items: `{lab['sentiment']['neutral']}`), "
             "scored by macro-F1 with accuracy and the majority class beside it" if task == "sentiment" else
             f"{'/'.join(lab['ner']['types'])} (other types set to O on both sides, after spans are decoded), "
             "scored by strict entity F1 (seqeval) and overlap F1 (same type, spans overlap)")
    out = [f"# Cross-lingual transfer from English: {TASK_NAMES[task]}", "",
           f"Written by `dvc repro transfer-report@{task}` from `metrics/transfer/`. Scores in percent on the label "
           f"space both sides share: {space}. 95% intervals resample the test items (bootstrap).", ""]
    out += ["## What the numbers say", ""] + _findings(root, p, tasks) + _multilingual_finding(root, p, task) \
        + _matrix_finding(root, p, task) + [""]
    out += ["## Zero-shot", "", "English models applied unchanged to each test set.", ""]
    out += _zeroshot_table(root, p, task) + [""]
    if task == "ner":
        out += _projection_section(root, p)
    out += ["## Few-shot learning curves", "",
            "Mean ± standard deviation over draws (min–max). k = 0 is the zero-shot model; every draw is nested "
            "(the 10-shot sample lies inside the 100-shot one) and stratified (" +
            ("class-balanced" if task == "sentiment" else
             f"{100 * float(t['fewshot']['entity_share']):.0f}% of the sentences hold an entity") +
            "). One fixed budget per k (`transfer.fewshot.points`), no target dev set. Every point is scored on "
            "the full test set.", "", f"![{task} learning curves]({task}.png)", ""]
    for lang in t["targets"]:
        out += [f"### {LANG_NAMES[lang]}", ""] + _curve_table(root, p, task, lang) + [""]
        _plot_data(root, p, task, lang)
    _figure(root, p, task)
    out += ["## In-language models on the shared space", "",
            "The main pipeline's models (trained on each dataset's own label set, all training data), scored "
            "like the transfer rows: " + ("argmax over the shared classes." if task == "sentiment" else
                                          "spans mapped like the gold."), "",
            "| language | score (macro-F1 / strict F1) | accuracy or overlap F1 | 95% CI |", "|---|---:|---:|---|"]
    for lang in ["en"] + list(t["targets"]):
        m = _read(Layout(root).inlang_metrics(task, lang))
        if m is None:
            out.append(f"| {LANG_NAMES[lang]} | not run | | |")
            continue
        second = m["accuracy"] if task == "sentiment" else m["overlap"]["f1"]
        out.append(f"| {LANG_NAMES[lang]} | {_pct(m['f1'])} | {_pct(second)} | "
                   f"{_pct(m['ci95']['f1'][0])}–{_pct(m['ci95']['f1'][1])} |")
    out += ["", "## Language matrix", "",
            "Each in-language model of the main pipeline on every test set, scored like the rows above "
            f"({'macro-F1' if task == 'sentiment' else 'strict F1'}, 95% bootstrap interval). Rows: the language the "
            "model was trained on (all its training data, the main pipeline's single seed); the diagonal (bold) is the "
            "table above. Off the diagonal is zero-shot transfer, from English (its own dataset, not the source models "
            "above) or from the other Indian language" + (": Hindi and Telugu IL-NER share an annotation guideline "
            "and type set, not a script." if task == "ner" else ": a different dataset and domain (product "
            "reviews, news).") + " `dvc repro transfer-matrix`.", ""] + _matrix_table(root, p, task)
    out += ["", "## One multilingual model against per-language models", ""] + _multilingual_table(root, p, task)
    out += ["", "## Transfer gap (XTREME style)", "",
            "English score minus target score of the same zero-shot models, on the same label space.", ""]
    out += _gap_table(root, p, refs, tasks) + [""]
    out += ["## Data in the shared label space", ""] + _data_table(root, p, tasks) + [""]
    path = Layout(root).transfer_report(task)
    io.write_text(path, "\n".join(out))
    return path
