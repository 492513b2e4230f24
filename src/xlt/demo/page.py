"""The demo page: one HTML document with its CSS and script, served at / by server.py.

Everything the API returns is put on the page with textContent (never innerHTML), so text that
looks like markup is shown as text. Element ids are the page's contract with the browser test
(tests/demo/test_browser.py).
"""

PAGE = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xlt demo: one sentence, three languages</title>
<style>
  :root { --fg: #1d2330; --muted: #5b6473; --line: #d9dee7; --accent: #2857c5; --bg: #f6f7fa; }
  * { box-sizing: border-box; }
  [hidden] { display: none !important; }
  body { margin: 0; font: 16px/1.5 system-ui, "Noto Sans", "Noto Sans Devanagari", "Noto Sans Telugu", "Lohit Devanagari", "Lohit Telugu", sans-serif;
         color: var(--fg); background: var(--bg); }
  main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
  h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
  h2 { margin: 0 0 .5rem; font-size: 1rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
  .lead { margin: 0 0 1rem; color: var(--muted); }
  form { display: flex; gap: .5rem; flex-wrap: wrap; }
  #text { flex: 1 1 28rem; padding: .6rem .75rem; font: inherit; border: 1px solid var(--line); border-radius: 6px; }
  button { font: inherit; padding: .55rem 1rem; border-radius: 6px; border: 1px solid var(--accent);
           background: var(--accent); color: white; cursor: pointer; }
  button.example { background: white; color: var(--accent); padding: .25rem .6rem; font-size: .9rem; }
  button:disabled { opacity: .6; cursor: progress; }
  #examples { margin: .6rem 0 0; display: flex; gap: .4rem; flex-wrap: wrap; align-items: center; color: var(--muted); font-size: .9rem; }
  #count { align-self: center; color: var(--muted); font-size: .85rem; }
  #count.over { color: #b3261e; font-weight: 600; }
  #status { min-height: 1.5rem; color: var(--muted); margin: .5rem 0; }
  #error { padding: .75rem 1rem; border: 1px solid #e3a6a1; background: #fdecea; color: #8c1d18; border-radius: 6px; }
  #result { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
  .card { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 1rem; }
  .wide { grid-column: 1 / -1; }
  #original, #entities { font-size: 1.25rem; margin: 0 0 .5rem; }
  #lang { font-weight: 600; }
  mark.entity { background: #fff1c2; border-radius: 4px; padding: .05rem .25rem; box-decoration-break: clone; }
  mark.entity[data-kind="person"] { background: #dcebff; }
  mark.entity[data-kind="location"] { background: #dcf5e3; }
  mark.entity[data-kind="organisation"] { background: #f6e1ff; }
  mark.entity .type { font-size: .65em; font-weight: 700; margin-left: .25rem; color: var(--muted); vertical-align: super; }
  #entity-list { margin: .25rem 0 0; padding-left: 1.2rem; color: var(--muted); font-size: .9rem; }
  #sentiment-label { font-size: 1.25rem; font-weight: 700; text-transform: capitalize; }
  table { width: 100%; border-collapse: collapse; margin-top: .5rem; }
  td, th { padding: .2rem .3rem; text-align: left; font-weight: normal; }
  tr.predicted th { font-weight: 700; }
  .bar { height: .8rem; background: #eef1f6; border-radius: 4px; overflow: hidden; min-width: 6rem; }
  .bar > div { height: 100%; background: var(--accent); }
  td.p { text-align: right; font-variant-numeric: tabular-nums; width: 4.5rem; }
  dl { margin: 0; } dt { color: var(--muted); font-size: .9rem; } dd { margin: 0 0 .6rem; font-size: 1.15rem; }
  audio { width: 100%; margin-top: .25rem; }
  .note, #meta { color: var(--muted); font-size: .9rem; }
</style>
</head>
<body>
<main>
  <h1>xlt demo</h1>
  <p class="lead">One sentence in English, Hindi or Telugu: its language (by script), sentiment, named entities,
    translations of English into Hindi and Telugu, and speech.</p>
  <form id="form">
    <input id="text" name="text" autocomplete="off" aria-label="Sentence"
           placeholder="Type a sentence in English, हिन्दी or తెలుగు">
    <button id="analyze" type="submit">Analyse</button>
    <span id="count"></span>
  </form>
  <div id="examples">Examples:
    <button type="button" class="example" data-text="Ravi loves this phone, it works really well in Delhi.">English</button>
    <button type="button" class="example" data-text="रवि को दिल्ली में यह फ़ोन बहुत अच्छा लगा।">हिन्दी</button>
    <button type="button" class="example" data-text="రవి హైదరాబాద్ లో ఈ సినిమా చూశాడు, చాలా బాగుంది.">తెలుగు</button>
  </div>
  <p id="status" aria-live="polite"></p>
  <div id="error" role="alert" hidden></div>
  <section id="result" hidden>
    <div class="card wide">
      <h2>Sentence</h2>
      <p id="original"></p>
      <div>Language: <span id="lang"></span></div>
    </div>
    <div class="card wide">
      <h2>Entities</h2>
      <p id="entities"></p>
      <ul id="entity-list"></ul>
    </div>
    <div class="card">
      <h2>Sentiment</h2>
      <div id="sentiment-label"></div>
      <table id="probabilities" aria-label="class probabilities"></table>
    </div>
    <div class="card">
      <h2>Translations</h2>
      <div id="translations"></div>
    </div>
    <div class="card wide">
      <h2>Speech</h2>
      <div id="speech-caption"></div>
      <audio id="audio" controls preload="auto" hidden></audio>
    </div>
    <p id="meta" class="wide"></p>
  </section>
</main>
<script>
"use strict";
const MAX_CHARS = __MAX_CHARS__;
const NAMES = {en: "English", hi: "Hindi", te: "Telugu"};
const $ = (id) => document.getElementById(id);
let answered = 0;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "dataset") Object.assign(node.dataset, v); else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

function showError(message) {
  $("result").hidden = true;
  $("error").textContent = message;
  $("error").hidden = false;
}

function renderEntities(r) {
  // Offsets are in code points (Python); Array.from splits the same way.
  const chars = Array.from(r.text);
  const box = $("entities");
  box.replaceChildren();
  box.lang = r.lang;
  let last = 0;
  for (const e of r.entities) {
    box.append(chars.slice(last, e.start).join(""));
    box.append(el("mark", {class: "entity", title: `${e.type_name} (${(e.score * 100).toFixed(0)}%)`,
                           dataset: {type: e.type, kind: e.type_name}},
                  chars.slice(e.start, e.end).join(""), el("span", {class: "type"}, e.type)));
    last = e.end;
  }
  box.append(chars.slice(last).join(""));
  const list = $("entity-list");
  list.replaceChildren(...r.entities.map((e) => el("li", {}, `${e.text}: ${e.type} (${e.type_name})`)));
  if (!r.entities.length) list.replaceChildren(el("li", {}, "no entities found"));
}

function renderSentiment(s) {
  $("sentiment-label").textContent = s.label;
  $("sentiment-label").dataset.label = s.label;
  const rows = Object.entries(s.probabilities).sort((a, b) => b[1] - a[1]).map(([label, p]) => {
    const fill = el("div", {});
    fill.style.width = `${(p * 100).toFixed(1)}%`;
    return el("tr", {class: "prob" + (label === s.label ? " predicted" : ""), dataset: {label, p: String(p)}},
              el("th", {}, label), el("td", {}, el("div", {class: "bar"}, fill)),
              el("td", {class: "p"}, `${(p * 100).toFixed(1)}%`));
  });
  $("probabilities").replaceChildren(...rows);
}

function renderTranslations(r) {
  const box = $("translations");
  const entries = Object.entries(r.translations);
  if (!entries.length) {
    box.replaceChildren(el("p", {class: "note", id: "no-translation"},
      `${NAMES[r.lang]} input is not translated: the models translate English into Hindi and Telugu.`));
    return;
  }
  box.replaceChildren(el("dl", {}, ...entries.flatMap(([lang, t]) => [
    el("dt", {}, `${NAMES[lang]} (${lang})`),
    el("dd", {id: `translation-${lang}`, lang}, t || "(empty translation)",
       ...((r.translations_cut || {})[lang]
           ? [el("span", {class: "note", lang: "en", id: `cut-${lang}`}, " (stopped at the decoding budget: cut short)")]
           : []))])));
}

function renderSpeech(s) {
  const audio = $("audio");
  if (!s) {
    $("speech-caption").textContent = "Nothing to speak: the Hindi translation is empty.";
    audio.removeAttribute("src");
    audio.hidden = true;
    return;
  }
  $("speech-caption").textContent = `Spoken: ${s.what} (${NAMES[s.lang]} voice, eSpeak NG).`;
  audio.dataset.lang = s.lang;
  audio.src = s.url;
  audio.hidden = false;
}

function render(r) {
  $("error").hidden = true;
  $("original").textContent = r.text;
  $("original").lang = r.lang;
  $("lang").textContent = `${r.lang_name} (${r.lang}), ${r.script} script`;
  $("lang").dataset.lang = r.lang;
  renderEntities(r);
  renderSentiment(r.sentiment);
  renderTranslations(r);
  renderSpeech(r.speech);
  const t = r.timings_ms;
  $("meta").textContent = `Models: ${r.model} (sentiment, NER), ${r.translation_model} ` +
                          `(${r.translation_family || "encoder-decoder"}, translation). ` +
                          `${Math.round(t.total)} ms without speech.`;
  $("result").hidden = false;
}

async function analyze(text) {
  $("analyze").disabled = true;
  $("status").textContent = "Analysing…";
  try {
    const resp = await fetch("/api/analyze", {method: "POST", headers: {"Content-Type": "application/json"},
                                              body: JSON.stringify({text})});
    let data;
    try { data = await resp.json(); } catch (e) { data = {error: `the server answered ${resp.status} without JSON`}; }
    if (!resp.ok) showError(data.error || `the server answered ${resp.status}`);
    else render(data);
  } catch (e) {
    showError(`could not reach the server: ${e.message}`);
  } finally {
    $("analyze").disabled = false;
    $("status").textContent = "";
    document.body.dataset.answered = String(++answered);   // for tests: one more answer shown
  }
}

function updateCount() {
  const n = Array.from($("text").value).length;
  $("count").textContent = `${n} / ${MAX_CHARS}`;
  $("count").classList.toggle("over", n > MAX_CHARS);
}

$("form").addEventListener("submit", (ev) => { ev.preventDefault(); analyze($("text").value); });
$("text").addEventListener("input", updateCount);
for (const b of document.querySelectorAll("button.example")) {
  b.addEventListener("click", () => { $("text").value = b.dataset.text; updateCount(); analyze(b.dataset.text); });
}
updateCount();
</script>
</body>
</html>
"""


def page() -> str:
    from xlt.demo.text import MAX_CHARS
    return PAGE.replace("__MAX_CHARS__", str(MAX_CHARS))
