import pytest

from personacast import registry
from personacast.cache import StageCache
from personacast.errors import ConfigError, MissingDependencyError


def test_cache_builds_once_and_reuses(tmp_path):
    cache = StageCache(tmp_path)
    calls = []

    def build(folder):
        calls.append(folder)
        (folder / "out.txt").write_text("v")

    first, hit1 = cache.entry("voice", {"text": "a"}, build)
    second, hit2 = cache.entry("voice", {"text": "a"}, build)
    third, hit3 = cache.entry("voice", {"text": "b"}, build)
    assert (hit1, hit2, hit3) == (False, True, False)
    assert first == second != third and len(calls) == 2
    assert (first / "out.txt").read_text() == "v"


def test_failed_build_leaves_nothing_behind(tmp_path):
    cache = StageCache(tmp_path)

    def build(folder):
        (folder / "half.wav").write_text("x")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.entry("voice", {"text": "a"}, build)
    assert list((tmp_path / "voice").iterdir()) == []


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown voice backend 'nope'.*piper"):
        registry.load_backend("voice", "nope")


def test_missing_extra_names_the_extra(monkeypatch):
    monkeypatch.setitem(registry.BACKENDS, "voice", {"fancy": registry.BackendRef("not_installed_pkg.mod:Voice", extra="voices-api")})
    with pytest.raises(MissingDependencyError, match=r"personacast\[voices-api\]"):
        registry.load_backend("voice", "fancy")
