"""Background music: a generated bed or the user's file, levelled against the speech,
ducked while someone speaks and faded in and out.

The beds are synthesised here (chord pads, bass, soft drums), so they are royalty-free
and need no files. Each is one seamless loop of four bars: every note is written
modulo the loop length, so a tail that runs past the end sounds at the start, and the
tiled loop is exactly what an endless performance would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import ConfigError
from ...media import loudness
from ...media.audio import decode_audio
from ...media.encode import AUDIO_RATE_HZ
from ...models import Character, MusicBed, MusicReport, MusicSpec, Script, Word

# The music is down before a word starts and comes back after it ends.
ATTACK_S = 0.08
RELEASE_S = 0.30
LOOP_CROSSFADE_S = 0.25
MIN_FILE_S = 1.0
# Shorter regions give no stable music level for the report.
MIN_MEASURED_S = 0.2
_CONTROL_HZ = 1000
_BARS = 4
_BEATS_PER_BAR = 4
_TONAL_DECIMATION = 4


@dataclass(frozen=True)
class BedStyle:
    bpm: float
    chords: tuple[tuple[int, ...], ...]  # MIDI notes of the pad, one chord a bar
    roots: tuple[int, ...]  # MIDI bass note for each bar
    bass_beats: tuple[float, ...]  # where in the bar (in beats) the bass plays
    kick_beats: tuple[float, ...] = ()
    hat_beats: tuple[float, ...] = ()
    brush_beats: tuple[float, ...] = ()
    swing_beats: float = 0.0  # how late off-beat eighths come
    pad_cutoff_hz: float = 1600.0


BEDS: dict[MusicBed, BedStyle] = {
    # I-vi-IV-V in C with sevenths, pads and a bass note a bar.
    "calm": BedStyle(
        bpm=68,
        chords=((48, 55, 59, 64), (45, 52, 55, 60), (41, 48, 52, 57), (43, 50, 52, 59)),
        roots=(36, 33, 29, 31),
        bass_beats=(0.0, 2.5),
        pad_cutoff_hz=1500.0,
    ),
    # I-V-vi-IV in D, eighth-note bass, four-on-the-floor kick, off-beat hats.
    "upbeat": BedStyle(
        bpm=104,
        chords=((50, 54, 57, 62), (49, 52, 57, 61), (47, 50, 54, 59), (47, 50, 55, 59)),
        roots=(38, 33, 35, 31),
        bass_beats=(0.0, 1.0, 1.5, 2.0, 3.0, 3.5),
        kick_beats=(0.0, 1.0, 2.0, 3.0),
        hat_beats=(0.5, 1.5, 2.5, 3.5),
        pad_cutoff_hz=2000.0,
    ),
    # ii-V-I-VI with ninths, swung, a muffled boom-bap kit.
    "lofi": BedStyle(
        bpm=76,
        chords=((50, 53, 60, 64), (53, 55, 59, 64), (52, 55, 59, 62), (49, 55, 59, 64)),
        roots=(38, 31, 36, 33),
        bass_beats=(0.0, 2.5),
        kick_beats=(0.0, 2.5),
        hat_beats=(0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5),
        brush_beats=(1.0, 3.0),
        swing_beats=0.17,
        pad_cutoff_hz=1100.0,
    ),
}


def chosen_music(character: Character, script: Script) -> MusicSpec | None:
    """The script's music if it sets one ("none" turns it off), else the character's."""
    if script.music is None:
        return character.music
    return None if script.music == "none" else script.music


def check_music(spec: MusicSpec) -> None:
    """Decode the user's file now, so a bad one fails before any slow work."""
    if spec.path is not None:
        _file_music(spec.path, spec.start_s)


def music_track(
    spec: MusicSpec, voice: np.ndarray, words: list[Word], seed: int = 0, rate_hz: int = AUDIO_RATE_HZ
) -> tuple[np.ndarray, MusicReport]:
    """The music to add to ``voice`` (mono at ``rate_hz``): ``spec.volume_db`` under the
    speech's loudness, ``spec.duck_db`` lower while words are spoken, faded at both ends;
    and its levels, measured on it before it is mixed."""
    n = voice.size
    if spec.path is not None:
        music = loop_to_length(_file_music(spec.path, spec.start_s, rate_hz), n, rate_hz)
    else:
        music = generate_bed(spec.bed, n, seed, rate_hz, offset=int(round(spec.start_s * rate_hz)))
    speech_lufs = loudness.integrated_lufs(voice, rate_hz)
    music_lufs = loudness.integrated_lufs(music, rate_hz)
    level_db = speech_lufs + spec.volume_db - music_lufs if music_lufs > loudness.SILENCE_LUFS else 0.0
    ducking = duck_amount(words, n, rate_hz)
    fade = fade_gain(n, rate_hz, spec.fade_in_s, spec.fade_out_s)
    track = (music * fade * np.power(10.0, (level_db + spec.duck_db * ducking) / 20.0)).astype(np.float32)

    unfaded = fade >= 1.0
    speech = _loudness_lu(track[_word_mask(words, n, rate_hz) & unfaded], speech_lufs, rate_hz)
    pauses = _loudness_lu(track[(ducking == 0.0) & unfaded], speech_lufs, rate_hz)
    depth = None if speech is None or pauses is None else round(pauses - speech, 2)
    return track, MusicReport(source=spec.source, speech_level_lu=speech, pause_level_lu=pauses, duck_depth_db=depth)


def bed_loop(name: MusicBed, seed: int = 0, rate_hz: int = AUDIO_RATE_HZ) -> np.ndarray:
    """One seamless four-bar loop of a generated bed, float32 peaking at 0.5."""
    from scipy.fft import irfft, next_fast_len, rfft, rfftfreq

    style = BEDS[name]
    rng = np.random.default_rng(seed)
    # The tonal layers have nothing above a few kHz, so they are synthesised at a
    # quarter of the rate; a beat of a length with small prime factors keeps the FFTs
    # fast, for a tempo at most a few percent slower than the style's.
    tonal_rate = rate_hz // _TONAL_DECIMATION
    tonal_beat = next_fast_len(int(60.0 / style.bpm * tonal_rate), real=True)
    beat = tonal_beat * _TONAL_DECIMATION
    length = _BARS * _BEATS_PER_BAR * beat

    def at(bar: int, beat_in_bar: float) -> int:
        late = style.swing_beats if beat_in_bar % 1.0 == 0.5 else 0.0
        jitter = rng.normal(0.0, 0.004) * rate_hz  # a player is never exactly on the grid
        return int(bar * _BEATS_PER_BAR * beat + (beat_in_bar + late) * beat + jitter) % length

    pad, bass, kick = (np.zeros(length // _TONAL_DECIMATION) for _ in range(3))
    hats, brush = np.zeros(length), np.zeros(length)
    for bar, (chord, root) in enumerate(zip(style.chords, style.roots)):
        _add_wrapped(pad, at(bar, 0.0) // _TONAL_DECIMATION, _pad_chord(chord, _BEATS_PER_BAR * tonal_beat, tonal_rate, rng))
        ends = [*style.bass_beats[1:], float(_BEATS_PER_BAR)]
        for start, stop in zip(style.bass_beats, ends):
            note = _bass_note(root, int((stop - start) * tonal_beat), tonal_rate, rng)
            _add_wrapped(bass, at(bar, start) // _TONAL_DECIMATION, note)
        for b in style.kick_beats:
            _add_wrapped(kick, at(bar, b) // _TONAL_DECIMATION, _kick(tonal_rate) * rng.uniform(0.85, 1.0))
        for b in style.hat_beats:
            _add_wrapped(hats, at(bar, b), _noise_hit(0.015, rate_hz, rng) * rng.uniform(0.5, 1.0))
        for b in style.brush_beats:
            _add_wrapped(brush, at(bar, b), _noise_hit(0.06, rate_hz, rng) * rng.uniform(0.8, 1.0))

    def full_rate(layer: np.ndarray) -> np.ndarray:
        """The layer's spectrum at ``rate_hz``: band-limited upsampling, in one step."""
        spectrum = np.zeros(length // 2 + 1, dtype=complex)
        low = rfft(layer) * _TONAL_DECIMATION
        spectrum[: low.size] = low
        return spectrum

    freqs = rfftfreq(length, 1.0 / rate_hz)
    # Filtering the loop's spectrum is circular, so the loop stays seamless.
    spectrum = (
        full_rate(pad) * _lowpass(freqs, style.pad_cutoff_hz)
        + full_rate(bass) * 0.8 * _lowpass(freqs, 400.0)
        + full_rate(kick) * 0.8
        + rfft(hats) * 0.25 * _highpass(freqs, 7000.0)
        + rfft(brush) * 0.6 * _lowpass(freqs, 1200.0)
    ) * _speech_dip(freqs)
    out = irfft(spectrum, n=length)
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


def generate_bed(name: MusicBed, n_samples: int, seed: int = 0, rate_hz: int = AUDIO_RATE_HZ, offset: int = 0) -> np.ndarray:
    """``n_samples`` of a bed, starting ``offset`` samples into its loop."""
    loop = bed_loop(name, seed, rate_hz)
    start = offset % loop.size
    repeats = -(-(start + n_samples) // loop.size)
    return np.tile(loop, repeats)[start : start + n_samples]


def loop_to_length(samples: np.ndarray, n_samples: int, rate_hz: int = AUDIO_RATE_HZ) -> np.ndarray:
    """Trim, or repeat with an equal-power crossfade where the end meets the start."""
    if samples.size >= n_samples:
        return samples[:n_samples]
    overlap = min(int(LOOP_CROSSFADE_S * rate_hz), samples.size // 2)
    fade_in = np.sin(0.5 * np.pi * (np.arange(overlap) + 0.5) / overlap)
    first = samples.astype(np.float64)
    first[-overlap:] *= fade_in[::-1]
    later = first.copy()
    later[:overlap] *= fade_in
    out = np.zeros(n_samples + samples.size)
    for index, start in enumerate(range(0, n_samples, samples.size - overlap)):
        out[start : start + samples.size] += later if index else first
    return out[:n_samples].astype(np.float32)


def duck_amount(words: list[Word], n_samples: int, rate_hz: int = AUDIO_RATE_HZ) -> np.ndarray:
    """Per sample, 0 (music at its level) to 1 (fully ducked): down over ``ATTACK_S``
    before each word, back up over ``RELEASE_S`` after it, on raised-cosine ramps."""
    spans = _speech_spans(words)
    if not spans:
        return np.zeros(n_samples)
    t = np.arange(int(np.ceil(n_samples / rate_hz * _CONTROL_HZ)) + 2) / _CONTROL_HZ
    starts, ends = np.array(spans).T
    after = np.searchsorted(starts, t, side="right")  # spans begun by t
    previous_end = np.where(after > 0, ends[np.maximum(after - 1, 0)], -np.inf)
    next_start = np.where(after < starts.size, starts[np.minimum(after, starts.size - 1)], np.inf)
    inside = t < previous_end
    rising = 1.0 - (next_start - t) / ATTACK_S
    falling = 1.0 - (t - previous_end) / RELEASE_S
    x = np.where(inside, 1.0, np.clip(np.maximum(rising, falling), 0.0, 1.0))
    control = 0.5 - 0.5 * np.cos(np.pi * x)
    return np.interp(np.arange(n_samples) / rate_hz, t, control)


def fade_gain(n_samples: int, rate_hz: int, fade_in_s: float, fade_out_s: float) -> np.ndarray:
    """Raised-cosine fades; squeezed in proportion when the clip is shorter than both."""
    squeeze = min(1.0, n_samples / max(1.0, (fade_in_s + fade_out_s) * rate_hz))
    fade_in, fade_out = int(fade_in_s * squeeze * rate_hz), int(fade_out_s * squeeze * rate_hz)
    gain = np.ones(n_samples)
    gain[:fade_in] = _rise(fade_in)
    gain[n_samples - fade_out :] = np.minimum(gain[n_samples - fade_out :], _rise(fade_out)[::-1])
    return gain


def _rise(length: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(length) / max(length, 1))


def _speech_spans(words: list[Word]) -> list[tuple[float, float]]:
    """Word times joined across gaps too short for the music to come all the way back
    up, so it stays down instead of pumping between words."""
    spans: list[tuple[float, float]] = []
    for word in sorted(words, key=lambda w: w.start_s):
        if spans and word.start_s - spans[-1][1] < ATTACK_S + RELEASE_S:
            spans[-1] = (spans[-1][0], max(spans[-1][1], word.end_s))
        else:
            spans.append((word.start_s, word.end_s))
    return spans


def _word_mask(words: list[Word], n_samples: int, rate_hz: int) -> np.ndarray:
    mask = np.zeros(n_samples, dtype=bool)
    for word in words:
        mask[int(word.start_s * rate_hz) : int(word.end_s * rate_hz)] = True
    return mask


def _file_music(path: Path, start_s: float, rate_hz: int = AUDIO_RATE_HZ) -> np.ndarray:
    if not path.is_file():
        raise ConfigError(f"music file not found: {path}", hint="check the path, or use a generated bed: calm, upbeat or lofi")
    samples, _ = decode_audio(path, rate_hz)
    usable = samples[int(start_s * rate_hz) :]
    if usable.size < MIN_FILE_S * rate_hz:
        raise ConfigError(
            f"music file {path} has {usable.size / rate_hz:.1f} s of audio after start_s={start_s:g}",
            hint=f"give at least {MIN_FILE_S:g} s of music or an earlier start_s",
        )
    return usable


def _loudness_lu(samples: np.ndarray, reference_lufs: float, rate_hz: int) -> float | None:
    """Loudness relative to ``reference_lufs``; None when too short to say."""
    if samples.size < MIN_MEASURED_S * rate_hz:
        return None
    return round(loudness.integrated_lufs(samples, rate_hz) - reference_lufs, 2)


def _add_wrapped(buffer: np.ndarray, start: int, signal: np.ndarray) -> None:
    head = min(signal.size, buffer.size - start)
    buffer[start : start + head] += signal[:head]
    buffer[: signal.size - head] += signal[head:]


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


def _pad_chord(notes: tuple[int, ...], hold: int, rate_hz: int, rng: np.random.Generator) -> np.ndarray:
    """Two slightly detuned voices a note, soft harmonics (a rounded, triangle-like
    tone), slow swell in, gentle release into the next chord."""
    release = int(1.2 * rate_hz)
    t = np.arange(hold + release) / rate_hz
    tone = np.zeros(t.size, dtype=np.float32)
    for note in notes:
        for cents in (-6.0, 6.0):
            f = _midi_hz(note + cents / 100.0)
            phase = rng.uniform(0.0, 1.0)
            for harmonic, amp in ((1, 1.0), (2, 0.3), (3, 0.1)):
                tone += amp * _sine(f * harmonic, t, harmonic * phase)
    swell = np.minimum(1.0, t / 0.5)
    tail = np.clip((t[-1] - t) / (release / rate_hz), 0.0, 1.0)
    return tone * (0.5 - 0.5 * np.cos(np.pi * swell)) * (0.5 - 0.5 * np.cos(np.pi * tail)) / len(notes)


def _bass_note(note: int, length: int, rate_hz: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(length) / rate_hz
    f = _midi_hz(note)
    tone = _sine(f, t) + 0.25 * _sine(2 * f, t) + 0.08 * _sine(3 * f, t)
    envelope = np.minimum(1.0, t / 0.01) * np.exp(-t / 0.45) * _end_taper(length, rate_hz)
    return tone * envelope * rng.uniform(0.85, 1.0)


def _kick(rate_hz: int) -> np.ndarray:
    t = np.arange(int(0.35 * rate_hz)) / rate_hz
    freq = 45.0 + 70.0 * np.exp(-t / 0.04)
    cycles = np.cumsum(freq) / rate_hz
    return _sine(1.0, cycles) * np.minimum(1.0, t / 0.003) * np.exp(-t / 0.12) * _end_taper(t.size, rate_hz)


def _sine(freq_hz: float, t: np.ndarray, phase_cycles: float = 0.0) -> np.ndarray:
    """sin(2 pi (f t + phase)): the phase is wrapped in float64 and the sine taken in
    float32, which numpy computes about ten times faster."""
    cycles = freq_hz * t + phase_cycles
    cycles -= np.floor(cycles)
    return np.sin(np.float32(2.0 * np.pi) * cycles.astype(np.float32))


def _noise_hit(decay_s: float, rate_hz: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(8 * decay_s * rate_hz)) / rate_hz
    return rng.standard_normal(t.size) * np.minimum(1.0, t / 0.002) * np.exp(-t / decay_s)


def _end_taper(length: int, rate_hz: int) -> np.ndarray:
    """The last 10 ms faded to zero: a note cut off mid-swing would click."""
    return np.clip(np.arange(length)[::-1] / (0.01 * rate_hz), 0.0, 1.0)


def _lowpass(freqs: np.ndarray, cutoff_hz: float) -> np.ndarray:
    return 1.0 / np.sqrt(1.0 + (freqs / cutoff_hz) ** 4)


def _highpass(freqs: np.ndarray, cutoff_hz: float) -> np.ndarray:
    return 1.0 / np.sqrt(1.0 + (cutoff_hz / np.maximum(freqs, 1.0)) ** 4)


def _speech_dip(freqs: np.ndarray) -> np.ndarray:
    """A wide -6 dB dip around 2.5 kHz, where speech is most intelligible."""
    octaves = np.log2(np.maximum(freqs, 1.0) / 2500.0)
    return 1.0 - 0.5 * np.exp(-0.5 * (octaves / 0.9) ** 2)
