"""Wav2Lip on the CPU: the full-size generator with random weights saved as the
authors save theirs, the official mel preprocessing, and the per-frame audio windows."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gpu_cases.lipsync_models import write_wav2lip_checkpoint

from personacast.errors import BackendError, ConfigError, MediaError, ModelWeightsError
from personacast.settings import Settings
from personacast.stages.lipsync import wav2lip
from personacast.stages.lipsync.wav2lip import Wav2LipModel, Wav2LipNet

SR = 16000


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    """One official-format checkpoint (145 MB) shared by the module's tests."""
    root = tmp_path_factory.mktemp("models")
    state = write_wav2lip_checkpoint(root / "wav2lip")
    return root, state


def _settings(tmp_path, models_dir) -> Settings:
    return Settings(data_dir=tmp_path / "data", models_dir=models_dir, hf_cache_dir=tmp_path / "hf", device="cpu")


@pytest.fixture(scope="module")
def loaded(models_dir, tmp_path_factory):
    from personacast.devices import choose_device

    settings = _settings(tmp_path_factory.mktemp("run"), models_dir[0])
    model = Wav2LipModel(settings, choose_device(settings))
    model.network()
    return model


def _tone(freq: float, seconds: float, rate: int = SR, start: float = 0.0, stop: float | None = None) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.5 * np.sin(2 * np.pi * freq * t)
    if stop is not None:
        wave *= (t >= start) & (t < stop)
    return wave.astype(np.float32)


def _band_of(freq: float) -> int:
    """The mel band whose triangle peaks closest to ``freq``."""
    bins = np.linspace(0, SR / 2, 1 + wav2lip.N_FFT // 2)
    peaks = bins[wav2lip.mel_filters().argmax(axis=1)]
    return int(np.abs(peaks - freq).argmin())


# -- loading ------------------------------------------------------------------------


def test_official_checkpoint_loads_strictly(loaded, models_dir):
    saved = models_dir[1]
    state = loaded.network().state_dict()
    assert state.keys() == saved.keys()
    assert all(torch.equal(state[key], saved[key]) for key in saved)  # batch-norm statistics included
    assert not loaded.network().training


@pytest.mark.parametrize(("name", "prefix", "legacy"), [("wav2lip.pth", "", True), ("wav2lip_gan.pth", "module.", False)])
def test_either_published_name_prefix_and_serialisation(tmp_path, cpu_device, name, prefix, legacy):
    saved = write_wav2lip_checkpoint(tmp_path / "models" / "wav2lip", name=name, prefix=prefix, seed=1,
                                     legacy_format=legacy)
    net = wav2lip.load_wav2lip(tmp_path / "models" / "wav2lip" / name, cpu_device)
    key = "audio_encoder.0.conv_block.0.weight"
    assert torch.equal(net.state_dict()[key], saved[key])


def test_mismatched_checkpoint_names_the_keys(tmp_path, cpu_device):
    state = {"module." + k: v for k, v in Wav2LipNet().state_dict().items()}
    del state["module.output_block.1.bias"]
    state["module.extra_head.weight"] = torch.zeros(3)
    state["module.face_encoder_blocks.0.0.conv_block.0.weight"] = torch.zeros(16, 3, 7, 7)  # a 3-channel input
    path = tmp_path / "wav2lip.pth"
    torch.save({"state_dict": state}, path)
    with pytest.raises(ModelWeightsError) as caught:
        wav2lip.load_wav2lip(path, cpu_device)
    message = str(caught.value)
    assert "missing keys: output_block.1.bias" in message
    assert "unexpected keys: extra_head.weight" in message
    assert "face_encoder_blocks.0.0.conv_block.0.weight (16, 3, 7, 7) (want (16, 6, 7, 7))" in message


def test_corrupt_or_absent_weights_fail_with_a_hint(tmp_path, cpu_device, models_dir):
    good = (models_dir[0] / "wav2lip" / "wav2lip_gan.pth").read_bytes()
    (tmp_path / "models" / "wav2lip").mkdir(parents=True)
    (tmp_path / "models" / "wav2lip" / "wav2lip_gan.pth").write_bytes(good[: len(good) // 3])
    with pytest.raises(ModelWeightsError, match="not a readable Wav2Lip checkpoint"):
        Wav2LipModel(_settings(tmp_path, tmp_path / "models"), cpu_device).network()
    with pytest.raises(ModelWeightsError, match="not on this machine") as caught:
        Wav2LipModel(_settings(tmp_path, tmp_path / "elsewhere"), cpu_device).network()
    assert str(tmp_path / "elsewhere" / "wav2lip") in str(caught.value)  # where to put it
    assert "non-commercial" in str(caught.value) and "non-commercial" in Wav2LipModel.licence_note


def test_full_size_parameter_count_follows_the_published_architecture():
    """Counted from the published layer list, independently of the module: every
    convolution has k*k*cin*cout weights and cout biases, every batch norm 2*cout
    affine parameters; the decoder's inputs are its previous output joined with the
    matching encoder features (512+512, 512+512, 512+256, 384+128, 256+64, 128+32, 64+16)."""

    def conv(cin, cout, k=3, norm=True):
        return k * k * cin * cout + cout + (2 * cout if norm else 0)

    def residuals(channels, count):
        return count * conv(channels, channels)

    face_encoder = (conv(6, 16, 7) + conv(16, 32) + residuals(32, 2) + conv(32, 64) + residuals(64, 3)
                    + conv(64, 128) + residuals(128, 2) + conv(128, 256) + residuals(256, 2)
                    + conv(256, 512) + residuals(512, 1) + conv(512, 512) + conv(512, 512, 1))
    audio_encoder = (conv(1, 32) + residuals(32, 2) + conv(32, 64) + residuals(64, 2) + conv(64, 128)
                     + residuals(128, 2) + conv(128, 256) + residuals(256, 1) + conv(256, 512) + conv(512, 512, 1))
    decoder = (conv(512, 512, 1) + conv(512 + 512, 512) + residuals(512, 1) + conv(512 + 512, 512) + residuals(512, 2)
               + conv(512 + 256, 384) + residuals(384, 2) + conv(384 + 128, 256) + residuals(256, 2)
               + conv(256 + 64, 128) + residuals(128, 2) + conv(128 + 32, 64) + residuals(64, 2))
    output = conv(64 + 16, 32) + conv(32, 3, 1, norm=False)
    with torch.device("meta"):
        net = Wav2LipNet()
    assert sum(p.numel() for p in net.parameters()) == face_encoder + audio_encoder + decoder + output


# -- audio --------------------------------------------------------------------------


def test_mel_filters_are_slaney_triangles_of_unit_area():
    filters = wav2lip.mel_filters()
    assert filters.shape == (80, 401)
    bin_hz = SR / wav2lip.N_FFT
    areas = filters.sum(axis=1) * bin_hz
    assert np.allclose(areas[40:], 1.0, atol=0.02)  # wide enough for 20 Hz bins to integrate well
    peaks = filters.argmax(axis=1) * bin_hz
    assert np.all(np.diff(peaks) >= 0) and 40 <= peaks[0] <= 100 and 7000 <= peaks[-1] <= 7600
    # Linear spacing below 1 kHz, logarithmic above: equal steps in Hz, then growing ones.
    low = np.diff(peaks[(peaks > 200) & (peaks < 900)])
    assert low.max() - low.min() <= 2 * bin_hz
    assert np.diff(peaks[peaks > 3000]).min() > 2 * low.max()


def test_mel_matches_librosa_semantics_as_reimplemented_by_transformers():
    """Wav2Lip computed its mels with librosa (not installed here); transformers'
    audio_utils reimplements librosa's Slaney filters and centred, reflect-padded STFT,
    so the official chain built from it is an independent reference."""
    from transformers.audio_utils import mel_filter_bank, spectrogram, window_function

    filters = mel_filter_bank(num_frequency_bins=401, num_mel_filters=80, min_frequency=55.0, max_frequency=7600.0,
                              sampling_rate=SR, norm="slaney", mel_scale="slaney")
    assert np.allclose(wav2lip.mel_filters(), filters.T, atol=1e-12)
    audio = 0.1 * np.random.default_rng(0).standard_normal(2 * SR)
    emphasised = np.append(audio[:1], audio[1:] - 0.97 * audio[:-1])
    decibels = spectrogram(emphasised, window_function(800, "hann"), frame_length=800, hop_length=200, power=1.0,
                           center=True, pad_mode="reflect", mel_filters=filters, mel_floor=1e-5, log_mel="dB")
    reference = np.clip(8 * (decibels - 20 + 100) / 100 - 4, -4, 4)  # ref 20 dB, floor -100 dB, into [-4, 4]
    assert np.abs(wav2lip.melspectrogram(audio) - reference).max() < 1e-4


def test_mel_of_a_1khz_tone_lights_the_1khz_band_only():
    mel = wav2lip.melspectrogram(_tone(1000, 1.0))
    assert mel.shape == (80, 1 + SR // wav2lip.HOP)  # one frame per 12.5 ms, centred
    assert mel.dtype == np.float32 and mel.min() >= -4.0 and mel.max() <= 4.0
    loudest = mel[:, 5:-5].mean(axis=1)
    band = _band_of(1000)
    assert int(loudest.argmax()) in (band - 1, band, band + 1)
    assert loudest[band] > 0.0  # a half-scale tone sits high on the [-4, 4] scale
    assert loudest[:band - 8].max() < loudest[band] - 3.0 and loudest[band + 8:].max() < loudest[band] - 3.0
    assert np.all(wav2lip.melspectrogram(np.zeros(SR)) == -4.0)  # silence is the floor


def test_features_resample_to_16khz(loaded):
    at_16k = loaded.audio_features(_tone(1000, 1.0), SR, 25.0, 25)
    at_48k = loaded.audio_features(_tone(1000, 1.0, rate=48000), 48000, 25.0, 25)
    assert at_16k.shape == at_48k.shape == (25, 80, 16)
    band = _band_of(1000)
    assert np.abs(at_16k[:, band] - at_48k[:, band]).max() < 0.2


def test_frame_k_hears_the_audio_starting_at_k_over_fps(loaded):
    """A 1 kHz burst from 1.0 s to 1.1 s. Frame k's window is the 16 mel frames from
    int(k * 80 / 25); mel frame j is centred at j / 80 s and reaches 25 ms (half an
    STFT window) either side."""
    windows = loaded.audio_features(_tone(1000, 2.0, start=1.0, stop=1.1), SR, 25.0, 60)
    assert windows.shape == (60, 80, 16)
    hears = windows[:, _band_of(1000)].max(axis=1) > -1.0

    def overlaps_burst(j):
        return j / 80 - 0.025 < 1.1 and j / 80 + 0.025 > 1.0

    expected = [k for k in range(60) if any(overlaps_burst(j) for j in range(int(k * 3.2), int(k * 3.2) + 16))]
    assert expected == list(range(20, 29))
    assert np.flatnonzero(hears).tolist() == expected
    # Inside frame 25 (which starts at 1.0 s) the burst begins at the first step.
    assert windows[25, _band_of(1000), 0] > windows[24, _band_of(1000), 0] + 2.0
    # Frames past the audio's end (2 s = 50 frames) repeat the last window.
    assert np.array_equal(windows[55], windows[59])


def test_windows_at_other_frame_rates_step_by_80_over_fps():
    mel = np.tile(np.arange(400, dtype=np.float32), (80, 1))  # each mel frame holds its own index
    windows = wav2lip.mel_windows(mel, 30.0, 10)
    assert windows[:, 0, 0].tolist() == [int(k * 80 / 30) for k in range(10)]
    assert np.array_equal(windows[3, 0], np.arange(8, 24))


# -- inference ----------------------------------------------------------------------


def _faces(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 96, 96, 3), dtype=np.uint8)


def test_sync_redraws_crops_deterministically_and_batching_changes_nothing(loaded):
    features = loaded.audio_features(_tone(300, 1.0) + _tone(2000, 1.0, start=0.5, stop=1.0), SR, 25.0, 25)
    crops, references = _faces(3, 1), _faces(3, 2)
    indices = [2, 14, 20]
    out = loaded.sync(crops, references, features, indices)
    assert out.shape == (3, 96, 96, 3) and out.dtype == np.uint8
    assert np.array_equal(out, loaded.sync(crops, references, features, indices))
    one_by_one = np.concatenate([loaded.sync(crops[i:i + 1], references[i:i + 1], features, indices[i:i + 1])
                                 for i in range(3)])
    # Convolutions may sum in another order for another batch size: at most 1 level off.
    assert np.abs(one_by_one.astype(int) - out).max() <= 1
    other_audio = loaded.sync(crops, references, features, [20, 2, 14])
    assert not np.array_equal(other_audio, out)


def test_sync_never_sees_the_lower_half_of_the_frame(loaded):
    features = loaded.audio_features(_tone(500, 0.5), SR, 25.0, 5)
    crops, references = _faces(2, 3), _faces(2, 4)
    changed = crops.copy()
    changed[:, 48:] = 255 - changed[:, 48:]
    out = loaded.sync(crops, references, features, [1, 3])
    assert np.array_equal(out, loaded.sync(changed, references, features, [1, 3]))
    changed[:, :48] = 255 - changed[:, :48]  # the upper half is what it keeps
    assert not np.array_equal(out, loaded.sync(changed, references, features, [1, 3]))
    assert not np.array_equal(out, loaded.sync(crops, _faces(2, 5), features, [1, 3]))


def test_sync_refuses_crops_of_another_size(loaded):
    features = loaded.audio_features(_tone(500, 0.5), SR, 25.0, 5)
    wrong = np.zeros((1, 128, 128, 3), np.uint8)
    with pytest.raises(ValueError, match=r"uint8 \(B, 96, 96, 3\)"):
        loaded.sync(wrong, wrong, features, [0])


def test_bad_audio_and_running_out_of_gpu_memory_fail_with_a_hint(loaded, monkeypatch):
    with pytest.raises(MediaError, match="NaN or infinite"):
        loaded.audio_features(np.array([0.0, np.nan, 0.1], np.float32), SR, 25.0, 2)
    with pytest.raises(ConfigError, match="fps must be positive"):
        loaded.audio_features(_tone(500, 0.5), SR, 0.0, 5)
    features = loaded.audio_features(_tone(500, 0.5), SR, 25.0, 5)

    def out_of_memory(*_):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(loaded, "_forward", out_of_memory)
    with pytest.raises(BackendError, match="ran out of memory while drawing mouths with Wav2Lip") as error:
        loaded.sync(_faces(1, 0), _faces(1, 1), features, [0])
    assert "PERSONACAST_GPU_MEMORY_MODE" in error.value.hint
