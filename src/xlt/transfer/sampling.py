"""k-shot samples: nested, deterministic per draw, stratified.

One draw is one ordering of the target training set; the k-shot sample is its first k items.
So for one draw the 10-shot set lies inside the 100-shot set (neighbouring points of a curve share
their examples and differ only by what was added), and the same draw seed gives the same sample.

The ordering shuffles each stratum with the draw's seed, then interleaves the strata so that every
prefix holds them in the declared shares: sentiment strata are the classes in equal shares
(class-balanced), NER strata are "has an entity of the shared space" vs "has none", with a
declared share of entity sentences (a uniform draw of 10 IL-NER sentences holds only ~2.5 with a
PER/LOC/ORG entity). When a stratum runs out, the others fill the rest.
"""
from __future__ import annotations

import random
from typing import Callable, Hashable


def nested_order(records: list[dict], stratum: Callable[[dict], Hashable], seed: int,
                 shares: dict | None = None) -> list[int]:
    """Indices of `records` in draw order. `shares`: stratum -> share of every prefix
    (None: equal shares over the strata present)."""
    rng = random.Random(seed)
    pools: dict = {}
    for i, r in enumerate(records):
        pools.setdefault(stratum(r), []).append(i)
    keys = sorted(pools, key=repr)           # a fixed order, whatever the records' order
    for k in keys:
        rng.shuffle(pools[k])
    if shares is None:
        shares = {k: 1 / len(keys) for k in keys}
    unknown = set(shares) - set(keys)
    shares = {k: float(shares.get(k, 0.0)) for k in keys}
    if unknown and not any(shares.values()):
        raise ValueError(f"no records in the strata {sorted(map(str, unknown))}")
    taken = {k: 0 for k in keys}
    order: list[int] = []
    while len(order) < len(records):
        open_ = [k for k in keys if taken[k] < len(pools[k])]
        n = len(order) + 1
        # The stratum furthest below its share after this pick; ties go to the first in order.
        live = [k for k in open_ if shares[k] > 0] or open_
        pick = max(live, key=lambda k: (shares[k] * n - taken[k], -keys.index(k)))
        order.append(pools[pick][taken[pick]])
        taken[pick] += 1
    return order


def k_shot(records: list[dict], k: int | str, order: list[int]) -> list[dict]:
    """The first k records of a draw ('all': every record)."""
    if k == "all":
        return list(records)
    k = int(k)
    if k > len(records):
        raise ValueError(f"k={k} but the training set has only {len(records)} examples")
    return [records[i] for i in order[:k]]


def draw_order(task: str, records: list[dict], seed: int, entity_share: float = 0.5) -> list[int]:
    """The stratified ordering used for `task`: class-balanced (sentiment) or with
    `entity_share` of sentences holding a shared-space entity (NER)."""
    if task == "sentiment":
        return nested_order(records, lambda r: r["label"], seed)
    return nested_order(records, has_entity, seed, {True: entity_share, False: 1 - entity_share})


def has_entity(record: dict) -> bool:
    return any(t != "O" for t in record["tags"])


def count_entities(records: list[dict]) -> int:
    return sum(t.startswith("B-") for r in records for t in r["tags"])
