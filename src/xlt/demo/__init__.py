"""The demo: one sentence in; language, sentiment, entities, translations and speech out.

    text.py      input checks, language by script, words with character offsets, IOB2 -> entities
    analyzer.py  loads the trained models once (models/<model>/...) and analyses one sentence
    speech.py    espeak-ng (the library bundled in the PyPI package espeakng-loader) -> WAV
    server.py    `xlt serve`: a page and a JSON API on the standard library's ThreadingHTTPServer
    page.py      the page (HTML, CSS and script in one string)

`xlt analyze "..."` (cli.py) is the command-line face of the same analyzer.
"""
