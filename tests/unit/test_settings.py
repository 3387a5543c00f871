import pytest

from personacast.errors import ConfigError
from personacast.settings import Settings


def test_config_file_is_read_below_the_environment(tmp_path, monkeypatch):
    config = tmp_path / "personacast.yaml"
    config.write_text("tts_threads: 1\nmax_script_chars: 900\nstorage_url: s3://bucket/videos\n")
    monkeypatch.setenv("PERSONACAST_CONFIG_FILE", str(config))
    monkeypatch.setenv("PERSONACAST_MAX_SCRIPT_CHARS", "1000")
    settings = Settings()
    assert settings.tts_threads == 1 and settings.storage_url == "s3://bucket/videos"
    assert settings.max_script_chars == 1000  # the environment wins over the file
    assert Settings(tts_threads=2).tts_threads == 2  # and arguments over both


def test_a_missing_config_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONACAST_CONFIG_FILE", str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match="missing file"):
        Settings()
