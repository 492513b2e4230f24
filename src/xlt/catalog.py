"""What exists, by name: the datasets each task/language can read and the parallel corpora each
target language has. Plain data, no imports from the rest of xlt.

Kept apart from the readers (xlt.data.readers, xlt.translation.data) so that validating
params.yaml (xlt.config), which every stage does, does not load them: a change to how one
dataset is parsed then reruns only the stages that parse it (tests/test_dvc_deps.py).
The readers check at import that they cover exactly these names.
"""
from __future__ import annotations

# name -> task, languages, whether the release has its own train/dev/test split
DATASETS: dict = {
    "sst2": {"task": "sentiment", "langs": ["en"], "official_split": True},
    "iitp-product-reviews": {"task": "sentiment", "langs": ["hi"], "official_split": True},
    "actsa": {"task": "sentiment", "langs": ["te"], "official_split": False},
    "conll2003": {"task": "ner", "langs": ["en"], "official_split": True},
    "il-ner": {"task": "ner", "langs": ["hi", "te"], "official_split": True},
}

# parallel corpus -> the target languages it pairs with English
CORPUS_LANGS: dict[str, tuple[str, ...]] = {
    "flores200-dev": ("hi", "te"),
    "flores200-devtest": ("hi", "te"),
    "joshua-wikipedia": ("hi", "te"),
    "bible": ("hi",),
    "opus100-dev": ("hi",),
    "opus100-test": ("hi",),
    "pib": ("te",),
    "mann-ki-baat": ("te",),
    "wat2021-dev": ("te",),
    "wat2021-test": ("te",),
    "tico19-terms": ("te",),
    "opensubtitles": ("te",),
}
