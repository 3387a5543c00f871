"""MuseTalk 1.5 on the CPU: tiny random-weight UNet, VAE and Whisper written as the
published repositories lay them out, loaded through the real loaders."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from gpu_cases.lipsync_models import EXTRACTOR_TINY, WHISPER_TINY, install_musetalk
from safetensors.torch import load_file, save_file

from personacast.errors import BackendError, ConfigError, MediaError, ModelWeightsError
from personacast.settings import Settings
from personacast.stages.lipsync import musetalk
from personacast.stages.lipsync.musetalk import MuseTalkModel

SR = 16000
LAYERS = WHISPER_TINY["encoder_layers"] + 1  # the embeddings and every layer's output
DIM = WHISPER_TINY["d_model"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return root, install_musetalk(root)


@pytest.fixture(scope="module")
def model(installed, tmp_path_factory):
    from personacast.devices import choose_device

    run = tmp_path_factory.mktemp("run")
    settings = Settings(data_dir=run / "data", models_dir=installed[0], hf_cache_dir=run / "hf", device="cpu")
    return MuseTalkModel(settings, choose_device(settings))


def _speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    """Noise under a syllable-rate envelope: different at every instant."""
    t = np.arange(int(seconds * SR)) / SR
    noise = np.random.default_rng(seed).standard_normal(t.size)
    return (0.3 * noise * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))).astype(np.float32)


def _faces(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 256, 256, 3), dtype=np.uint8)


# -- loading ------------------------------------------------------------------------


def test_published_layout_loads_strictly(model, installed):
    generator = model.generator()
    loaded = generator.unet.state_dict()
    assert loaded.keys() == installed[1].keys()
    assert all(torch.equal(loaded[key], installed[1][key]) for key in loaded)
    assert generator.unet.config.in_channels == 8 and generator.unet.config.cross_attention_dim == DIM
    assert not any(t.is_meta for t in list(generator.unet.parameters()) + list(generator.unet.buffers()))
    extractor, encoder = model.whisper()
    assert extractor.n_samples == SR * EXTRACTOR_TINY["chunk_length"]
    assert len(encoder.layers) == WHISPER_TINY["encoder_layers"] and not encoder.training
    assert "MIT" in MuseTalkModel.licence_note and "Apache-2.0" in MuseTalkModel.licence_note


def _copy_layout(source, target):
    import shutil

    shutil.copytree(source, target)
    return target / "musetalk" / "musetalkV15"


def _fresh(tmp_path, models_dir, cpu_device) -> MuseTalkModel:
    settings = Settings(data_dir=tmp_path / "data", models_dir=models_dir, hf_cache_dir=tmp_path / "hf", device="cpu")
    return MuseTalkModel(settings, cpu_device)


def test_mismatched_unet_checkpoint_names_the_keys(installed, tmp_path, cpu_device):
    folder = _copy_layout(installed[0], tmp_path / "models")
    state = dict(installed[1])
    del state["conv_out.bias"]
    state["conv_in.weight"] = torch.zeros(16, 4, 3, 3)  # a plain 4-channel SD UNet's input
    state["audio_projection.weight"] = torch.zeros(2)
    torch.save(state, folder / "unet.pth")
    with pytest.raises(ModelWeightsError) as caught:
        _fresh(tmp_path, tmp_path / "models", cpu_device).generator()
    message = str(caught.value)
    assert "missing keys: conv_out.bias" in message and "unexpected keys: audio_projection.weight" in message
    assert "conv_in.weight (16, 4, 3, 3) (want (16, 8, 3, 3))" in message


def test_corrupt_unet_or_wrong_config_or_missing_parts_fail(installed, tmp_path, cpu_device):
    folder = _copy_layout(installed[0], tmp_path / "models")
    weights = (folder / "unet.pth").read_bytes()
    (folder / "unet.pth").write_bytes(weights[: len(weights) // 2])
    with pytest.raises(ModelWeightsError, match="not a readable MuseTalk UNet checkpoint"):
        _fresh(tmp_path, tmp_path / "models", cpu_device).generator()

    (folder / "unet.pth").write_bytes(weights)
    config = json.loads((folder / "musetalk.json").read_text())
    (folder / "musetalk.json").write_text(json.dumps({**config, "in_channels": 4}))
    with pytest.raises(ModelWeightsError, match="MuseTalk's takes 8"):
        _fresh(tmp_path, tmp_path / "models", cpu_device).generator()

    (folder / "musetalk.json").write_text(json.dumps(config))
    whisper_weights = tmp_path / "models" / "whisper-tiny" / "model.safetensors"
    state = load_file(whisper_weights)
    del state["encoder.layers.0.fc1.weight"]  # transformers would fill it with random numbers and go on
    save_file(state, whisper_weights, metadata={"format": "pt"})
    with pytest.raises(ModelWeightsError, match="lack encoder weights: encoder.layers.0.fc1.weight"):
        _fresh(tmp_path, tmp_path / "models", cpu_device).audio_features(_speech_like(0.5), SR, 25.0, 5)

    whisper_weights.unlink()
    with pytest.raises(ModelWeightsError, match="whisper-tiny.*missing model.safetensors or pytorch_model.bin"):
        _fresh(tmp_path, tmp_path / "models", cpu_device).audio_features(_speech_like(0.5), SR, 25.0, 5)


# -- audio --------------------------------------------------------------------------


def test_windows_take_ten_states_around_each_frame_zero_beyond_the_audio():
    states = (torch.arange(40, dtype=torch.float32) + 1)[:, None, None].repeat(1, LAYERS, DIM)  # state t holds t+1
    windows = musetalk.frame_windows(states, 50.0, 25.0, 24)
    assert windows.shape == (24, 10 * LAYERS, DIM)
    first_of_each_time = windows[:, ::LAYERS, 0]  # time-major: LAYERS tokens per state
    for k in range(24):
        wanted = [t + 1 if 0 <= t < 40 else 0 for t in range(2 * k - 4, 2 * k + 6)]  # 80 ms before to 120 ms after
        assert first_of_each_time[k].tolist() == wanted
    assert torch.equal(windows[5].reshape(10, LAYERS, DIM), states[6:16])  # the layers of one instant stay together


def test_windows_follow_non_integer_frame_rates():
    states = (torch.arange(300, dtype=torch.float32) + 1)[:, None, None].repeat(1, 1, 4)
    windows = musetalk.frame_windows(states, 50.0, 29.97, 180)
    starts = windows[:, 4, 0] - 1  # the state the frame falls on: after the 2 x ceil(50 / 29.97) lead
    assert starts.tolist() == [math.floor(k * (50 / 29.97)) for k in range(180)]


def test_encoder_states_cover_long_audio_window_by_window(model):
    extractor, encoder = model.whisper()
    audio = _speech_like(2.5)  # three one-second Whisper windows, the last one half empty
    states = musetalk.encoder_states(encoder, extractor, audio)
    assert musetalk.states_per_second(encoder, extractor) == 50.0
    assert states.shape == (125, LAYERS, DIM)  # 50 a second, cut at the end of the sound
    with torch.inference_mode():
        second = extractor(audio[SR:2 * SR], sampling_rate=SR, return_tensors="pt").input_features
        hidden = encoder(second, output_hidden_states=True).hidden_states
        last = encoder(second).last_hidden_state
    assert torch.allclose(states[50:100], torch.stack(hidden, dim=2)[0], atol=1e-5)
    assert torch.allclose(states[50:100, -1], last[0], atol=1e-5)  # the last state is after the final norm


def test_audio_features_one_window_per_video_frame_at_any_sample_rate(model):
    features = model.audio_features(_speech_like(2.0), SR, 25.0, 55)  # 5 frames longer than the sound
    assert features.shape == (55, 10 * LAYERS, DIM) and features.dtype == torch.float32
    assert torch.count_nonzero(features[54]) == 0 and torch.count_nonzero(features[47]) > 0
    from scipy.signal import resample_poly

    at_48k = resample_poly(_speech_like(2.0), 3, 1).astype(np.float32)
    resampled = model.audio_features(at_48k, 48000, 25.0, 55)
    assert resampled.shape == features.shape
    assert torch.corrcoef(torch.stack([features[10].flatten(), resampled[10].flatten()]))[0, 1] > 0.95


def test_positional_encoding_is_the_transformer_sinusoid():
    encoding = musetalk.positional_encoding(50, 384)
    assert encoding.shape == (50, 384)
    assert torch.equal(encoding[0, 0::2], torch.zeros(192)) and torch.equal(encoding[0, 1::2], torch.ones(192))
    assert math.isclose(encoding[7, 10].item(), math.sin(7 / 10000 ** (10 / 384)), abs_tol=1e-5)
    assert math.isclose(encoding[7, 11].item(), math.cos(7 / 10000 ** (10 / 384)), abs_tol=1e-5)


# -- inference ----------------------------------------------------------------------


def test_sync_is_deterministic_and_batching_changes_nothing(model):
    features = model.audio_features(_speech_like(1.0), SR, 25.0, 25)
    crops, references = _faces(3, 1), _faces(3, 2)
    indices = [3, 12, 22]
    out = model.sync(crops, references, features, indices)
    assert out.shape == (3, 256, 256, 3) and out.dtype == np.uint8
    assert np.array_equal(out, model.sync(crops, references, features, indices))
    model.batch_size = 2  # the same frames split over two UNet/VAE calls
    try:
        split = model.sync(crops, references, features, indices)
    finally:
        model.batch_size = musetalk.BATCH
    one_by_one = np.concatenate([model.sync(crops[i:i + 1], references[i:i + 1], features, indices[i:i + 1])
                                 for i in range(3)])
    # Convolutions may sum in another order for another batch size: at most 1 level off.
    assert np.abs(split.astype(int) - out).max() <= 1 and np.abs(one_by_one.astype(int) - out).max() <= 1
    assert not np.array_equal(model.sync(crops, references, features, [22, 3, 12]), out)  # the audio matters


def test_sync_never_sees_the_lower_half_of_the_frame(model):
    features = model.audio_features(_speech_like(0.5), SR, 25.0, 12)
    crops, references = _faces(2, 3), _faces(2, 4)
    changed = crops.copy()
    changed[:, 128:] = 255 - changed[:, 128:]
    out = model.sync(crops, references, features, [1, 9])
    assert np.array_equal(out, model.sync(changed, references, features, [1, 9]))
    changed[:, :128] = 255 - changed[:, :128]
    assert not np.array_equal(out, model.sync(changed, references, features, [1, 9]))
    assert not np.array_equal(out, model.sync(crops, _faces(2, 5), features, [1, 9]))


def test_sync_refuses_crops_of_another_size(model):
    features = model.audio_features(_speech_like(0.5), SR, 25.0, 12)
    wrong = np.zeros((1, 96, 96, 3), np.uint8)
    with pytest.raises(ValueError, match=r"uint8 \(B, 256, 256, 3\)"):
        model.sync(wrong, wrong, features, [0])


def test_the_position_encoding_is_made_once_not_every_batch(model, monkeypatch):
    made = []
    real = musetalk.positional_encoding
    monkeypatch.setattr(musetalk, "positional_encoding", lambda *shape: made.append(shape) or real(*shape))
    monkeypatch.setattr(model, "_positions", None)
    monkeypatch.setattr(model, "batch_size", 1)  # three UNet calls a sync
    features = model.audio_features(_speech_like(0.5), SR, 25.0, 12)
    for _ in range(2):
        model.sync(_faces(3, 1), _faces(3, 2), features, [1, 5, 9])
    assert made == [(10 * LAYERS, DIM)]


def test_bad_audio_and_running_out_of_gpu_memory_fail_with_a_hint(model, monkeypatch):
    with pytest.raises(MediaError, match="NaN or infinite"):
        model.audio_features(np.array([0.0, np.inf, 0.1], np.float32), SR, 25.0, 2)
    with pytest.raises(ConfigError, match="fps must be positive"):
        model.audio_features(_speech_like(0.5), SR, -25.0, 12)
    features = model.audio_features(_speech_like(0.5), SR, 25.0, 12)

    def out_of_memory(*_):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(musetalk, "encoder_states", out_of_memory)
    with pytest.raises(BackendError, match="ran out of memory while hearing the voice with Whisper") as error:
        model.audio_features(_speech_like(0.5), SR, 25.0, 12)
    assert "PERSONACAST_GPU_MEMORY_MODE" in error.value.hint
    monkeypatch.setattr(model, "_draw", out_of_memory)
    with pytest.raises(BackendError, match="ran out of memory while drawing mouths with MuseTalk"):
        model.sync(_faces(1, 0), _faces(1, 1), features, [0])
