import json

from recurrent.data.cache import cached_json, digest


def test_a_value_is_computed_once_then_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("RECURRENT_CACHE_DIR", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"labels": [[0, 2], [1]]}

    first, path = cached_json("oracle", digest(["a", "b"]), compute)
    second, _ = cached_json("oracle", digest(["a", "b"]), compute)
    assert first == second == {"labels": [[0, 2], [1]]} and len(calls) == 1
    assert path.parent == tmp_path / "oracle" and not list(path.parent.glob("*.tmp"))


def test_other_inputs_or_a_damaged_file_compute_again(tmp_path, monkeypatch):
    monkeypatch.setenv("RECURRENT_CACHE_DIR", str(tmp_path))
    _, path = cached_json("oracle", digest(["a"]), lambda: [1])
    assert digest(["a", "b"]) != digest(["ab"])  # parts are delimited
    assert cached_json("oracle", digest(["b"]), lambda: [2])[0] == [2]
    path.write_text('{"trunc')
    assert cached_json("oracle", digest(["a"]), lambda: [3])[0] == [3]
    assert json.loads(path.read_text()) == [3]
