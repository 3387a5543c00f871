import numpy as np
import pytest

from personacast.models import VoiceProfile
from personacast.stages.voice.effects import apply_tone


def _band_db(samples, rate, low, high):
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    return 10 * np.log10(spectrum[(freqs >= low) & (freqs < high)].mean())


@pytest.mark.parametrize("bass, treble", [(6.0, 0.0), (0.0, 6.0), (-6.0, 4.0)])
def test_tone_shelves_change_only_their_band(bass, treble):
    rate = 22050
    noise = (np.random.default_rng(0).standard_normal(rate * 2) * 0.05).astype(np.float32)
    shaped = apply_tone(noise, rate, VoiceProfile(bass_db=bass, treble_db=treble))
    assert shaped.dtype == np.float32 and shaped.size == noise.size
    change = {band: _band_db(shaped, rate, *band) - _band_db(noise, rate, *band) for band in ((40, 120), (900, 1400), (8000, 10000))}
    assert change[(40, 120)] == pytest.approx(bass, abs=1.0)
    assert change[(900, 1400)] == pytest.approx(0.0, abs=1.0)
    assert change[(8000, 10000)] == pytest.approx(treble, abs=1.0)


def test_flat_tone_is_untouched():
    samples = np.linspace(-0.5, 0.5, 1000, dtype=np.float32)
    assert apply_tone(samples, 16000, VoiceProfile()) is samples
