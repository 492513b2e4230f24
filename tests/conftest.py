"""Test tiers: `python -m pytest -m "not slow"` is the everyday tier (under two minutes here);
the full suite (`python -m pytest -q`, what CI runs) adds the tests marked slow: every
integration test (a `dvc repro` on a copy of the repository) and the ones that train or serve
tiny models end to end."""
from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("integration"):
            item.add_marker(pytest.mark.slow)
