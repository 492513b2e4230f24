"""End to end in headless Chromium (Debian's /usr/bin/chromium driven by Playwright; Playwright's
own browser downloads are not used): type a sentence in each language, read what the page shows,
load the spoken audio; then bad input shows a message and the page keeps working.

XLT_DEMO_SCREENSHOTS=<dir> saves a screenshot of each state there."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from xlt.demo.text import MAX_CHARS

from .conftest import EN_POS, HI_POS, TE_NEU, TRANSLATION

CHROMIUM = os.environ.get("XLT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium is not installed ({CHROMIUM}; apt-get install chromium, as .ci/run does)",
                allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402  (after the skip)

TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def page(demo_server):
    with sync_playwright() as pw:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        pg = browser.new_page(viewport={"width": 1100, "height": 1000})
        pg.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(demo_server.url)
        yield pg
        browser.close()
    assert not errors, errors


def shot(page, name: str) -> None:
    folder = os.environ.get("XLT_DEMO_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def submit(page, text: str) -> None:
    """Type, click, and wait until the page has shown the answer (body[data-answered] counts them)."""
    answered = int(page.locator("body").get_attribute("data-answered") or 0)
    page.fill("#text", text)
    page.click("#analyze")
    expect(page.locator("body")).to_have_attribute("data-answered", str(answered + 1))


def check_audio(page) -> None:
    audio = page.locator("#audio")
    expect(audio).to_be_visible()
    src = audio.get_attribute("src")
    assert src and src.startswith("/api/speech?")
    head = page.evaluate("""async (src) => {
        const r = await fetch(src);
        const b = new Uint8Array(await r.arrayBuffer());
        return {status: r.status, type: r.headers.get("content-type"),
                magic: String.fromCharCode(...b.slice(0, 4)) + String.fromCharCode(...b.slice(8, 12)),
                size: b.length};
    }""", src)
    assert head["status"] == 200 and head["type"] == "audio/wav" and head["magic"] == "RIFFWAVE", head
    # The browser itself decodes it: loadedmetadata gives the duration.
    deadline = time.monotonic() + 30
    while not (duration := page.evaluate("() => document.getElementById('audio').duration || 0")):   # NaN until loaded
        assert time.monotonic() < deadline, "the audio element never loaded its WAV"
        page.wait_for_timeout(100)
    assert duration > 0.3, duration
    assert page.evaluate("() => document.getElementById('audio').error") is None


def sentiment(page) -> tuple[str, dict[str, float]]:
    rows = page.locator("#probabilities tr.prob")
    probs = {rows.nth(i).get_attribute("data-label"): float(rows.nth(i).get_attribute("data-p"))
             for i in range(rows.count())}
    return page.locator("#sentiment-label").inner_text().lower(), probs


def test_english(page):
    text = "Sita works for Infosys in New Delhi."
    submit(page, text)
    expect(page.locator("#result")).to_be_visible()
    expect(page.locator("#error")).to_be_hidden()
    expect(page.locator("#original")).to_have_text(text)
    expect(page.locator("#lang")).to_have_attribute("data-lang", "en")
    expect(page.locator("#lang")).to_contain_text("English")
    # Entities inline, with their types.
    marks = page.locator("#entities mark.entity")
    expect(marks).to_have_count(3)
    assert [marks.nth(i).get_attribute("data-type") for i in range(3)] == ["PER", "ORG", "LOC"]
    expect(marks.nth(2)).to_contain_text("New Delhi")
    expect(marks.nth(2).locator(".type")).to_have_text("LOC")
    expect(page.locator("#entities")).to_have_text("SitaPER works for InfosysORG in New DelhiLOC.")
    # Translations, each marked where the API says decoding stopped at its budget.
    cut = page.evaluate("""async (text) => (await (await fetch("/api/analyze", {method: "POST",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({text})})).json()).translations_cut""", text)
    for lang in ("hi", "te"):
        expect(page.locator(f"#translation-{lang}")).not_to_be_empty()
        expect(page.locator(f"#cut-{lang}")).to_have_count(1 if cut[lang] else 0)
    # Sentiment with class probabilities.
    label, probs = sentiment(page)
    assert label in probs and set(probs) == {"negative", "positive"}
    assert sum(probs.values()) == pytest.approx(1, abs=1e-3)
    expect(page.locator("#speech-caption")).to_contain_text("the Hindi translation")
    check_audio(page)
    shot(page, "english")

    # The mark itself, on an answer whose Hindi translation was cut (the tiny models stop by themselves).
    page.evaluate("""() => renderTranslations({lang: "en", translations: {hi: "x y", te: "z"},
                                               translations_cut: {hi: true, te: false}})""")
    expect(page.locator("#cut-hi")).to_have_text("(stopped at the decoding budget: cut short)")
    expect(page.locator("#cut-te")).to_have_count(0)

    submit(page, "Ravi lives in Delhi.")
    expect(page.locator("#original")).to_have_text("Ravi lives in Delhi.")
    expect(page.locator("#translation-hi")).to_have_text(TRANSLATION["hi"][0][1])
    expect(page.locator("#translation-te")).to_have_text(TRANSLATION["te"][0][1])
    expect(page.locator("#translations .note")).to_have_count(0)      # learnt by heart: stopped by itself


@pytest.mark.parametrize("text, lang, name, entities, label", [
    (HI_POS, "hi", "Hindi", ["NEP", "NEL"], "positive"),
    (TE_NEU, "te", "Telugu", [], "neutral"),
])
def test_hindi_and_telugu(page, text, lang, name, entities, label):
    submit(page, text)
    expect(page.locator("#original")).to_have_text(text)
    expect(page.locator("#lang")).to_have_attribute("data-lang", lang)
    expect(page.locator("#lang")).to_contain_text(name)
    expect(page.locator("#no-translation")).to_contain_text(f"{name} input is not translated")
    marks = page.locator("#entities mark.entity")
    expect(marks).to_have_count(len(entities))
    assert [marks.nth(i).get_attribute("data-type") for i in range(len(entities))] == entities
    got, probs = sentiment(page)
    assert got == label and sum(probs.values()) == pytest.approx(1, abs=1e-3)
    expect(page.locator("#speech-caption")).to_contain_text(f"the original {name} sentence")
    assert page.locator("#audio").get_attribute("data-lang") == lang
    check_audio(page)
    shot(page, name.lower())


def test_example_button(page):
    answered = int(page.locator("body").get_attribute("data-answered") or 0)
    page.click("button.example >> nth=2")
    expect(page.locator("body")).to_have_attribute("data-answered", str(answered + 1))
    expect(page.locator("#lang")).to_have_attribute("data-lang", "te")
    expect(page.locator("#entities mark.entity").first).to_have_attribute("data-type", "NEP")


@pytest.mark.parametrize("text, message", [
    ("", "the text is empty"),
    ("    ", "the text is empty"),
    ("a" * (MAX_CHARS + 5), f"at most {MAX_CHARS} characters"),
    ("你好，世界", "unsupported script: Han"),
    ("Ravi\x07 lives", "control character U+0007"),
])
def test_bad_input_shows_a_message_and_the_page_keeps_working(page, text, message):
    submit(page, text)
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#error")).to_contain_text(message)
    expect(page.locator("#result")).to_be_hidden()
    if text.startswith("你"):
        shot(page, "error")
    submit(page, EN_POS)
    expect(page.locator("#error")).to_be_hidden()
    expect(page.locator("#original")).to_have_text(EN_POS)
