"""eSpeak NG through the library bundled in espeakng-loader: every voice speaks, audibly."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from xlt.demo import speech
from xlt.demo.speech import SpeechError


@pytest.mark.parametrize("lang, sentence", [
    ("en", "Ravi lives in Delhi."),
    ("hi", "रवि दिल्ली में रहता है।"),
    ("te", "రవి హైదరాబాద్ లో ఉన్నాడు."),
])
def test_each_voice_speaks(lang, sentence):
    wav = speech.synthesize(sentence, lang)
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    stats = speech.wav_stats(wav)
    assert stats["seconds"] > 0.5, stats
    assert stats["peak"] > 0.1, stats      # not silence


def test_indic_voices_read_the_script_not_letter_names():
    # A voice without a dictionary for the script would spell out code points, much longer.
    hi = speech.wav_stats(speech.synthesize("नमस्ते", "hi"))["seconds"]
    te = speech.wav_stats(speech.synthesize("నమస్తే", "te"))["seconds"]
    assert 0.3 < hi < 2.0 and 0.3 < te < 2.0, (hi, te)


def test_rate_changes_duration_and_does_not_stick():
    slow = speech.wav_stats(speech.synthesize("one two three four five", "en", rate=100))["seconds"]
    fast = speech.wav_stats(speech.synthesize("one two three four five", "en", rate=300))["seconds"]
    again = speech.wav_stats(speech.synthesize("one two three four five", "en"))["seconds"]
    assert fast < again < slow


@pytest.mark.parametrize("text, lang, message", [
    ("hello", "zh", "no voice for language 'zh'"),
    ("   ", "en", "nothing to speak"),
    ("a" * (speech.MAX_SPEECH_CHARS + 1), "en", "at most"),
])
def test_errors(text, lang, message):
    with pytest.raises(SpeechError, match=message):
        speech.synthesize(text, lang)


def test_concurrent_calls_are_serialised():
    sentences = [("en", "good morning"), ("hi", "सुप्रभात"), ("te", "శుభోదయం")] * 3
    # eSpeak's output varies by a few samples between calls: compare durations, which mixed-up
    # calls (one voice's samples in another's buffer) would change by far more.
    expected = {lang: speech.wav_stats(speech.synthesize(t, lang))["seconds"] for lang, t in sentences[:3]}
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda st: speech.wav_stats(speech.synthesize(st[1], st[0])), sentences))
    for stats, (lang, _) in zip(results, sentences):
        assert stats["seconds"] == pytest.approx(expected[lang], rel=0.02), (lang, stats, expected)
