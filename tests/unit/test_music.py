"""Background music: generated beds, user files, ducking under the words, fades, the
delivered mix's loudness, configuration and failing fast on a bad file."""

import time
from pathlib import Path
from typing import get_args

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt
from typer.testing import CliRunner

from personacast.errors import ConfigError, MediaError, PersonacastError
from personacast.media import loudness
from personacast.media.wav import write_wav
from personacast.models import Character, MusicBed, MusicSpec, Scene, Script, Timeline, VoiceTrack, Word
from personacast.stages.compose.composer import prepare_audio
from personacast.stages.compose.formats import get_preset
from personacast.stages.compose.music import (
    ATTACK_S,
    BEDS,
    RELEASE_S,
    bed_loop,
    check_music,
    chosen_music,
    generate_bed,
    loop_to_length,
    music_track,
)

RATE = 48_000
VOICE_HZ = 6000.0  # above everything in the calm bed, so a low-pass of the mix leaves only the music
# Two stretches of words with a long pause between them and after them.
SPEECH = [(0.5, 2.5), (5.5, 7.5)]
DURATION_S = 10.0


def _rms_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _at(x: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    return x[int(start_s * RATE) : int(end_s * RATE)]


@pytest.fixture
def voice(tmp_path) -> VoiceTrack:
    """A tone during words a quarter-second long, silence elsewhere, at a voice engine's rate."""
    rate = 22_050
    t = np.arange(int(DURATION_S * rate)) / rate
    words = [Word(text="w", start_s=s, end_s=s + 0.25) for start, end in SPEECH for s in np.arange(start, end, 0.25)]
    speaking = np.zeros(t.size, dtype=bool)
    for word in words:
        speaking[int(word.start_s * rate) : int(word.end_s * rate)] = True
    write_wav(tmp_path / "voice.wav", 0.3 * np.sin(2 * np.pi * VOICE_HZ * t) * speaking, rate)
    timeline = Timeline(words=words, phonemes=[], duration_s=DURATION_S)
    return VoiceTrack(audio_path=tmp_path / "voice.wav", sample_rate_hz=rate, duration_s=DURATION_S, timeline=timeline, engine="test")


def _music_in(mix: np.ndarray) -> np.ndarray:
    return sosfiltfilt(butter(10, 3000, fs=RATE, output="sos"), mix)


# --- beds ---------------------------------------------------------------------------


def test_every_bed_name_has_a_style():
    assert set(BEDS) == set(get_args(MusicBed))


@pytest.mark.parametrize("name", list(BEDS))
def test_beds_are_deterministic_audible_and_of_the_requested_length(name):
    n = int(7.3 * RATE)
    bed = generate_bed(name, n, seed=3)
    assert bed.dtype == np.float32 and bed.size == n
    assert np.array_equal(bed, generate_bed(name, n, seed=3))
    assert not np.array_equal(bed, generate_bed(name, n, seed=4))
    assert _rms_db(bed) > -25 and np.abs(bed).max() <= 0.5 + 1e-6


@pytest.mark.parametrize("name", list(BEDS))
def test_beds_loop_without_clicks(name):
    loop = bed_loop(name)
    inside = np.abs(np.diff(loop))
    assert abs(float(loop[0]) - float(loop[-1])) <= np.percentile(inside, 99.9)
    # Longer beds are the loop repeated, from any offset.
    long = generate_bed(name, 2 * loop.size + 100, offset=loop.size - 50)
    assert np.array_equal(long[:50], loop[-50:]) and np.array_equal(long[50 : 50 + loop.size], loop)


@pytest.mark.parametrize("name", list(BEDS))
def test_beds_leave_room_for_speech(name):
    power = np.abs(np.fft.rfft(bed_loop(name))) ** 2
    freqs = np.fft.rfftfreq(bed_loop(name).size, 1 / RATE)
    assert power[(freqs > 1000) & (freqs < 5000)].sum() < 0.01 * power.sum()


def test_a_minute_of_bed_is_quick_to_make():
    generate_bed("lofi", RATE)  # imports and first-call set-up are not what is timed
    started = time.perf_counter()
    for name in BEDS:
        generate_bed(name, 60 * RATE)
    assert (time.perf_counter() - started) / len(BEDS) < 1.0


# --- user files ---------------------------------------------------------------------


def test_a_short_file_loops_with_a_crossfade_not_a_click(tmp_path):
    # 1.37 s of a sine: ends mid-cycle, so a plain repeat would jump.
    t = np.arange(int(1.37 * RATE)) / RATE
    write_wav(tmp_path / "song.wav", 0.5 * np.sin(2 * np.pi * 440 * t), RATE)
    from personacast.media.audio import decode_audio

    samples, _ = decode_audio(tmp_path / "song.wav", RATE)
    looped = loop_to_length(samples, 5 * RATE)
    assert looped.size == 5 * RATE
    smooth_step = 0.5 * 2 * np.pi * 440 / RATE
    assert np.abs(np.diff(looped)).max() < 1.3 * smooth_step
    assert _rms_db(_at(looped, 1.0, 4.5)) == pytest.approx(_rms_db(samples), abs=1.5)


def test_a_long_file_is_trimmed_from_start_s(tmp_path):
    ramp = np.linspace(-0.5, 0.5, 20 * RATE)  # its value tells the time: -0.3 at 4 s, 0.2 at 14 s
    write_wav(tmp_path / "long.wav", ramp, RATE)
    spec = MusicSpec(source=str(tmp_path / "long.wav"), start_s=4.0, fade_in_s=0, fade_out_s=0)
    voice = 0.1 * np.sin(np.arange(int(DURATION_S * RATE)) * 0.1).astype(np.float32)
    track, _ = music_track(spec, voice, [], rate_hz=RATE)
    assert track.size == voice.size
    assert track[-1] / track[0] == pytest.approx(0.2 / -0.3, abs=0.01)


# --- ducking, fades, loudness -------------------------------------------------------


def test_music_is_ducked_under_the_words_measured_on_the_mix(voice):
    spec = MusicSpec(source="calm", duck_db=-10, fade_in_s=0.3, fade_out_s=0.3)
    mix, _, report = prepare_audio(voice, get_preset("tiktok"), spec)
    music = _music_in(mix)
    during_words = np.concatenate([_at(music, start, end) for start, end in SPEECH])
    in_pauses = np.concatenate([_at(music, 2.5 + RELEASE_S, 5.5 - ATTACK_S), _at(music, 7.5 + RELEASE_S, 9.6)])
    assert _rms_db(in_pauses) - _rms_db(during_words) >= 10 - 2
    # The report measures the music track itself, before the voice was added.
    assert report is not None and report.source == "bed:calm"
    assert 8 <= report.duck_depth_db <= 12
    assert report.pause_level_lu == pytest.approx(spec.volume_db, abs=1.5)


def test_music_comes_back_up_between_words_only_in_real_pauses():
    words = [Word(text="a", start_s=1.0, end_s=1.2), Word(text="b", start_s=1.45, end_s=1.7), Word(text="c", start_s=3.0, end_s=3.2)]
    from personacast.stages.compose.music import duck_amount

    amount = duck_amount(words, 4 * RATE, RATE)
    assert amount[int(1.3 * RATE)] == 1.0  # a 0.25 s gap: stays down
    assert amount[int(2.5 * RATE)] == 0.0  # a 1.3 s pause: all the way back up
    assert amount[int((1.0 - ATTACK_S / 2) * RATE)] == pytest.approx(0.5, abs=0.05)  # halfway down before the word
    assert amount[int((3.2 + RELEASE_S + 0.01) * RATE)] == 0.0
    assert np.abs(np.diff(amount)).max() < 0.001  # smooth ramps, no steps


def test_music_fades_in_and_out(voice):
    spec = MusicSpec(source="upbeat", fade_in_s=1.0, fade_out_s=1.5)
    mix = prepare_audio(voice, get_preset("tiktok"), spec).samples
    music = _music_in(mix)
    middle = _rms_db(_at(music, 3.0, 5.0))
    assert _rms_db(_at(music, 0.0, 0.1)) < middle - 10
    assert _rms_db(_at(music, DURATION_S - 0.1, DURATION_S)) < middle - 10


def test_music_level_follows_volume_db(voice):
    for volume_db in (-24.0, -12.0):
        report = prepare_audio(voice, get_preset("tiktok"), MusicSpec(source="lofi", volume_db=volume_db)).music
        assert report.pause_level_lu == pytest.approx(volume_db, abs=1.5)
        assert report.speech_level_lu == pytest.approx(volume_db - 10, abs=1.5)


@pytest.mark.parametrize("source", ["calm", "upbeat", "lofi"])
def test_the_mix_is_delivered_at_minus_14_lufs_under_the_peak_limit(voice, source):
    mix, aac, _ = prepare_audio(voice, get_preset("tiktok"), MusicSpec(source=source, volume_db=-8))
    lufs, peak = loudness.measure(aac.decoded(), RATE)
    assert abs(lufs + 14) <= 0.5 and peak <= -1.0
    assert loudness.integrated_lufs(mix, RATE) == loudness.measure(mix, RATE)[0]


def test_no_music_leaves_the_voice_alone(voice):
    alone, _, report = prepare_audio(voice, get_preset("tiktok"))
    assert report is None
    assert np.abs(_at(alone, 2.7, 5.3)).max() < 1e-4  # silence in the pause stays silence


# --- configuration --------------------------------------------------------------------


def test_music_settings_and_overrides():
    character = Character(name="c", images=[Path("a.png")], music={"source": "calm", "volume_db": -18})
    assert character.music == MusicSpec(source="bed:calm", volume_db=-18)
    assert Character(name="c", images=[Path("a.png")], music="none").music is None
    said = [Scene(text="Hello.")]
    assert chosen_music(character, Script(scenes=said)) == character.music
    assert chosen_music(character, Script(scenes=said, music="lofi")).source == "bed:lofi"
    assert chosen_music(character, Script(scenes=said, music="none")) is None
    assert MusicSpec(source="~/song.mp3").path == Path.home() / "song.mp3"
    with pytest.raises(ValueError, match="unknown music bed 'bed:jazz'"):
        MusicSpec(source="bed:jazz")


@pytest.mark.parametrize(
    "yaml_value, expected",
    [("null", None), ("none", None), ("off", None), ("upbeat", "bed:upbeat"), ("song.mp3", "HERE/song.mp3"),
     ("{source: lofi, duck_db: -6}", "bed:lofi"), ("{source: sub/song.ogg}", "HERE/sub/song.ogg")],
)
def test_music_in_script_files(tmp_path, yaml_value, expected):
    (tmp_path / "script.yaml").write_text(f"text: Hello there.\nmusic: {yaml_value}\n")
    script = Script.from_file(tmp_path / "script.yaml")
    character = Character(name="c", images=[Path("a.png")], music="calm")
    chosen = chosen_music(character, script)
    assert (chosen.source if chosen else None) == (expected.replace("HERE", str(tmp_path)) if expected else None)


def test_music_in_a_character_folder(tmp_path):
    (tmp_path / "character.yaml").write_text("name: c\nimages: [face.png]\nmusic: {source: bed.mp3, volume_db: -16}\n")
    character = Character.from_dir(tmp_path)
    assert character.music == MusicSpec(source=str(tmp_path / "bed.mp3"), volume_db=-16)
    (tmp_path / "character.yaml").write_text("name: c\nimages: [face.png]\nmusic: {source: bed:jazz}\n")
    with pytest.raises(ConfigError, match="music.source.*unknown music bed"):
        Character.from_dir(tmp_path)


# --- failing fast -----------------------------------------------------------------------


def test_missing_short_or_corrupt_music_files_fail_clearly(tmp_path):
    with pytest.raises(ConfigError, match="music file not found"):
        check_music(MusicSpec(source=str(tmp_path / "nope.mp3")))
    (tmp_path / "broken.mp3").write_bytes(b"ID3\x03\x00" + bytes(range(256)) * 8)
    with pytest.raises(MediaError, match="broken.mp3"):
        check_music(MusicSpec(source=str(tmp_path / "broken.mp3")))
    write_wav(tmp_path / "blip.wav", np.full(RATE // 4, 0.1), RATE)
    with pytest.raises(ConfigError, match="0.2 s of audio"):
        check_music(MusicSpec(source=str(tmp_path / "blip.wav")))
    check_music(MusicSpec(source="calm"))


def test_a_bad_music_file_fails_the_render_before_any_stage_runs(tmp_path, portrait, monkeypatch):
    from personacast import pipeline
    from personacast.pipeline import RenderJob, render
    from personacast.settings import Settings

    def no_stage(*args, **kwargs):
        raise AssertionError("a stage started before the music was checked")

    monkeypatch.setattr(pipeline, "load_backend", no_stage)
    character = Character(name="c", images=[portrait], music=str(tmp_path / "missing.mp3"))
    job = RenderJob(character, Script.from_text("Hello there."), pipeline.RenderSpec(), tmp_path / "out.mp4")
    with pytest.raises(ConfigError, match="music file not found"):
        render(job, Settings(data_dir=tmp_path / "data"))
    assert not (tmp_path / "out.mp4").exists()


class _Stop(PersonacastError):
    pass


@pytest.fixture
def rendered_jobs(monkeypatch):
    """Runs the CLI up to the pipeline and keeps the jobs it would render."""
    from personacast import pipeline

    jobs = []

    def capture(job, formats, settings, progress=None):
        jobs.append(job)
        raise _Stop("stopped before rendering")

    monkeypatch.setattr(pipeline, "render_formats", capture)
    return jobs


def _cli(*args):
    from personacast.cli import app

    return CliRunner().invoke(app, ["render", *map(str, args)])


def test_cli_music_options(tmp_path, portrait, rendered_jobs, monkeypatch):
    monkeypatch.setenv("PERSONACAST_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "face.png").write_bytes(portrait.read_bytes())
    (tmp_path / "character.yaml").write_text("name: c\nimages: [face.png]\nmusic: lofi\n")
    base = ("--character", tmp_path, "--text", "Hello there.", "--out", tmp_path / "out.mp4")

    for extra, expected in [((), MusicSpec(source="lofi")), (("--music", "none"), None),
                            (("--music", "calm", "--music-volume", "-12"), MusicSpec(source="calm", volume_db=-12)),
                            (("--music-volume", "-15"), MusicSpec(source="lofi", volume_db=-15))]:
        result = _cli(*base, *extra)
        assert "stopped before rendering" in result.output, result.output
        assert chosen_music(rendered_jobs[-1].character, rendered_jobs[-1].script) == expected

    no_music = _cli("--image", portrait, "--text", "Hi.", "--out", tmp_path / "x.mp4", "--music-volume", "-12")
    assert no_music.exit_code == 2 and "--music-volume needs music" in no_music.output
    too_loud = _cli(*base, "--music-volume", "6")
    assert too_loud.exit_code == 2 and "volume_db" in too_loud.output


def test_cli_fails_fast_on_a_missing_music_file(tmp_path, portrait, monkeypatch):
    monkeypatch.setenv("PERSONACAST_DATA_DIR", str(tmp_path / "data"))
    started = time.perf_counter()
    result = _cli("--image", portrait, "--text", "Hello.", "--out", tmp_path / "out.mp4", "--music", tmp_path / "gone.mp3")
    assert result.exit_code == 2
    assert "music file not found" in " ".join(result.output.split()) and "Traceback" not in result.output
    assert time.perf_counter() - started < 5
    assert [p for p in tmp_path.iterdir() if p.is_file()] == []
