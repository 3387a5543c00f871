"""Voice-profile effects that keep the duration, so a timeline stays valid."""

from __future__ import annotations

import numpy as np

from ...models import VoiceProfile


BASS_SHELF_HZ = 250.0
TREBLE_SHELF_HZ = 4000.0


def needs_effects(profile: VoiceProfile) -> bool:
    return profile.formant_shift != 1.0 or profile.pitch_median_hz is not None or profile.pitch_range != 1.0


def apply_profile(samples: np.ndarray, rate_hz: int, profile: VoiceProfile) -> np.ndarray:
    """The profile's pitch/formant change, then its tone."""
    return apply_tone(change_voice(samples, rate_hz, profile), rate_hz, profile)


def apply_tone(samples: np.ndarray, rate_hz: int, profile: VoiceProfile) -> np.ndarray:
    """Low and high shelving filters (RBJ cookbook biquads, slope 1)."""
    if samples.size == 0 or (profile.bass_db == 0 and profile.treble_db == 0):
        return samples
    from scipy.signal import lfilter

    out = samples.astype(np.float64)
    for gain_db, corner_hz, high in ((profile.bass_db, BASS_SHELF_HZ, False), (profile.treble_db, TREBLE_SHELF_HZ, True)):
        if gain_db:
            b, a = _shelf(gain_db, min(corner_hz, 0.45 * rate_hz), rate_hz, high)
            out = lfilter(b, a, out)
    peak = float(np.max(np.abs(out))) or 1.0
    return (out * min(1.0, 0.98 / peak)).astype(np.float32)


def _shelf(gain_db: float, corner_hz: float, rate_hz: int, high: bool) -> tuple[np.ndarray, np.ndarray]:
    amp = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * corner_hz / rate_hz
    cos_w0, alpha = np.cos(w0), np.sin(w0) / 2 * np.sqrt(2)
    root = 2 * np.sqrt(amp) * alpha
    sign = 1 if high else -1
    b = np.array([
        amp * ((amp + 1) + sign * (amp - 1) * cos_w0 + root),
        -sign * 2 * amp * ((amp - 1) + sign * (amp + 1) * cos_w0),
        amp * ((amp + 1) + sign * (amp - 1) * cos_w0 - root),
    ])
    a = np.array([
        (amp + 1) - sign * (amp - 1) * cos_w0 + root,
        sign * 2 * ((amp - 1) - sign * (amp + 1) * cos_w0),
        (amp + 1) - sign * (amp - 1) * cos_w0 - root,
    ])
    return b / a[0], a / a[0]


def change_voice(samples: np.ndarray, rate_hz: int, profile: VoiceProfile) -> np.ndarray:
    """Praat's "Change gender": formant ratio, new median pitch, pitch range.

    Praat resamples internally; the result is trimmed or padded to the input length
    so that sample positions (and therefore phone times) are unchanged.
    """
    if not needs_effects(profile) or samples.size == 0:
        return samples
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=rate_hz)
    changed = call(
        sound,
        "Change gender",
        75.0,  # pitch floor (Hz)
        600.0,  # pitch ceiling (Hz)
        float(profile.formant_shift),
        float(profile.pitch_median_hz or 0.0),  # 0 keeps the original median
        float(profile.pitch_range),
        1.0,  # duration factor: never change timing
    )
    out = changed.values[0]
    if changed.sampling_frequency != rate_hz:
        from scipy.signal import resample

        out = resample(out, int(round(len(out) * rate_hz / changed.sampling_frequency)))
    out = out[: samples.size]
    if out.size < samples.size:
        out = np.pad(out, (0, samples.size - out.size))
    peak = float(np.max(np.abs(out))) or 1.0
    # Praat can overshoot slightly; keep the level the engine produced.
    return (out * min(1.0, 0.98 / peak)).astype(np.float32)
