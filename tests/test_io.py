"""Tests for xlt.io: atomic writes and JSON Lines."""
import json

import pytest

from xlt import io


class Boom(RuntimeError):
    pass


def listing(d):
    return sorted(p.name for p in d.iterdir())


def test_write_json_leaves_no_temp_files(tmp_path):
    io.write_json(tmp_path / "sub" / "m.json", {"f1": 0.5, "name": "हिन्दी"})
    assert listing(tmp_path / "sub") == ["m.json"]
    assert io.read_json(tmp_path / "sub" / "m.json") == {"f1": 0.5, "name": "हिन्दी"}
    # Written as UTF-8, not \\u escapes.
    assert "हिन्दी" in (tmp_path / "sub" / "m.json").read_text(encoding="utf-8")


def test_overwrite_replaces_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "x.txt"
    io.write_text(path, "old")
    io.write_text(path, "new")
    assert path.read_text() == "new"
    assert listing(tmp_path) == ["x.txt"]


def test_failed_write_keeps_old_file_and_cleans_up(tmp_path):
    path = tmp_path / "x.txt"
    io.write_text(path, "old")
    with pytest.raises(Boom):
        with io.atomic_path(path) as tmp:
            tmp.write_text("half-writ")
            raise Boom
    assert path.read_text() == "old"
    assert listing(tmp_path) == ["x.txt"]


def test_failed_first_write_leaves_nothing(tmp_path):
    with pytest.raises(Boom):
        with io.atomic_path(tmp_path / "new.json") as tmp:
            tmp.write_text("{")
            raise Boom
    assert listing(tmp_path) == []


def test_write_jsonl_generator_raising_midway_keeps_old_file(tmp_path):
    path = tmp_path / "r.jsonl"
    io.write_jsonl(path, [{"a": 1}])

    def records():
        yield {"a": 2}
        raise Boom

    with pytest.raises(Boom):
        io.write_jsonl(path, records())
    assert io.read_jsonl(path) == [{"a": 1}]
    assert listing(tmp_path) == ["r.jsonl"]


def test_unserialisable_json_keeps_old_file(tmp_path):
    path = tmp_path / "m.json"
    io.write_json(path, {"ok": True})
    with pytest.raises(TypeError):
        io.write_json(path, {"bad": object()})
    assert io.read_json(path) == {"ok": True}
    assert listing(tmp_path) == ["m.json"]


def test_atomic_directory_replace_and_failure(tmp_path):
    out = tmp_path / "prepared"
    with io.atomic_path(out) as tmp:
        tmp.mkdir()
        (tmp / "a.txt").write_text("1")
    assert listing(out) == ["a.txt"]
    with io.atomic_path(out) as tmp:
        tmp.mkdir()
        (tmp / "b.txt").write_text("2")
    assert listing(out) == ["b.txt"]  # replaced whole, not merged
    with pytest.raises(Boom):
        with io.atomic_path(out) as tmp:
            tmp.mkdir()
            (tmp / "c.txt").write_text("3")
            raise Boom
    assert listing(out) == ["b.txt"]
    assert listing(tmp_path) == ["prepared"]


def test_jsonl_roundtrip_unicode_and_count(tmp_path):
    recs = [{"text": "ఈ సినిమా బాగుంది", "label": "positive"}, {"tokens": ["राम"], "tags": ["B-PER"]}]
    assert io.write_jsonl(tmp_path / "r.jsonl", recs) == 2
    assert io.read_jsonl(tmp_path / "r.jsonl") == recs
    lines = (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and "సినిమా" in lines[0]


def test_read_jsonl_skips_blank_lines(tmp_path):
    (tmp_path / "r.jsonl").write_text('{"a": 1}\n\n   \n{"a": 2}\n', encoding="utf-8")
    assert io.read_jsonl(tmp_path / "r.jsonl") == [{"a": 1}, {"a": 2}]


def test_read_jsonl_error_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    # Line 3 (counting the blank line) is broken.
    path.write_text(json.dumps({"a": 1}) + "\n\n" + '{"a": 2,\n' + json.dumps({"a": 3}) + "\n",
                    encoding="utf-8")
    with pytest.raises(ValueError) as e:
        io.read_jsonl(path)
    assert f"{path}:3:" in str(e.value)
    assert "invalid JSON" in str(e.value)
