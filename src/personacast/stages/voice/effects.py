"""Voice-profile effects that keep the duration, so a timeline stays valid."""

from __future__ import annotations

import numpy as np

from ...models import VoiceProfile


def needs_effects(profile: VoiceProfile) -> bool:
    return profile.formant_shift != 1.0 or profile.pitch_median_hz is not None or profile.pitch_range != 1.0


def apply_profile(samples: np.ndarray, rate_hz: int, profile: VoiceProfile) -> np.ndarray:
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
