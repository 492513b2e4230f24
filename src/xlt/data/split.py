"""Train/dev/test splits: the dataset's official split where it has one, otherwise
(or with data.split: paper) a stratified split with a fixed seed."""
from __future__ import annotations

from collections import Counter

from sklearn.model_selection import train_test_split


def stratum(record: dict) -> str:
    """What a split is stratified on: the label for sentiment; for NER the most frequent
    entity type in the sentence ('none' if it has none), so each split sees every type."""
    if "label" in record:
        return record["label"]
    types = Counter(t[2:] for t in record["tags"] if t.startswith("B-"))
    return types.most_common(1)[0][0] if types else "none"


def stratified_split(records: list[dict], ratios: dict, seed: int) -> dict[str, list[dict]]:
    """Split into train/dev/test with the given ratios, stratified and deterministic."""
    if len(records) < 4:
        raise ValueError(f"cannot split {len(records)} records into train/dev/test")
    strata = [stratum(r) for r in records]
    # Classes too rare to stratify (fewer than 3 members) are pooled, so that
    # scikit-learn can still place at least one of each stratum in every split.
    counts = Counter(strata)
    strata = [s if counts[s] >= 3 else "__rare__" for s in strata]
    if Counter(strata)["__rare__"] in (1, 2):
        strata = [s if s != "__rare__" else Counter(strata).most_common(1)[0][0] for s in strata]
    idx = list(range(len(records)))
    holdout = ratios["dev"] + ratios["test"]
    train_idx, rest_idx = train_test_split(idx, test_size=holdout, random_state=seed, stratify=strata)
    rest_strata = [strata[i] for i in rest_idx]
    rest_counts = Counter(rest_strata)
    if min(rest_counts.values()) < 2:
        # Pool only the strata too rare to split again, keeping the others stratified.
        big = rest_counts.most_common(1)[0][0]
        rest_strata = [s if rest_counts[s] >= 2 else big for s in rest_strata]
    dev_idx, test_idx = train_test_split(rest_idx, test_size=ratios["test"] / holdout,
                                         random_state=seed, stratify=rest_strata)
    return {"train": [records[i] for i in sorted(train_idx)],
            "dev": [records[i] for i in sorted(dev_idx)],
            "test": [records[i] for i in sorted(test_idx)]}


def make_splits(by_split: dict[str, list[dict]], mode: str, ratios: dict, seed: int) -> dict[str, list[dict]]:
    """`by_split` is what the reader returned: official train/dev/test, or {'all': [...]}."""
    if mode == "official" and set(by_split) == {"train", "dev", "test"}:
        return by_split
    pooled = [r for name in sorted(by_split) for r in by_split[name]]
    return stratified_split(pooled, ratios, seed)


def distribution(records: list[dict]) -> dict[str, int]:
    return dict(sorted(Counter(stratum(r) for r in records).items()))
