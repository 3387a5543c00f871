"""KokoroVoiceEngine against a tiny ONNX graph with Kokoro's inputs and outputs.

The graph looks each token up in a random table (the pad token is silence), stretches
every token over ``ceil(4 / speed)`` hops and scales by the style's mean, so the audio
length tells how many tokens and which speed reached it, and voices differ in level.
"""

import json
import math

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from personacast.errors import ConfigError, TextError, VoiceError
from personacast.models import VoiceProfile
from personacast.settings import Settings
from personacast.stages.voice import kokoro
from personacast.stages.voice.kokoro import CONTEXT_TOKENS, SAMPLE_RATE_HZ, KokoroVoiceEngine
from personacast.stages.voice.phonemes import ipa_symbols
from personacast.stages.voice.utterance import SpeechRequest

HOP = 600  # samples per token per repeat
N_TOKEN = 178
STYLE_WIDTH = 256
MARGIN = int(kokoro._EDGE_MARGIN_S * SAMPLE_RATE_HZ)
# Kokoro's English symbols and punctuation; ids need not match the real vocabulary.
SYMBOLS = ";:,.!?—…\"() AIOQWYabdefhijklmnoprstuvwxzɑɐɒæðʤəɚɛɜɡɪŋɔɹɾʃʧʊʌʒθᵊᵻˈˌː"
VOCAB = {symbol: index + 1 for index, symbol in enumerate(SYMBOLS)}
TEXT = "Hello there, how are you today?"


def tiny_kokoro(path, *, token_input="tokens", speed_type=TensorProto.FLOAT, batched=False, metadata=None):
    rng = np.random.default_rng(7)
    table = rng.uniform(0.2, 0.9, (N_TOKEN, HOP)) * rng.choice([-1.0, 1.0], (N_TOKEN, HOP))
    table[0] = 0.0  # the pad token: the model's silence at each end
    constants = {
        "table": table.astype(np.float32),
        "hop_shape": np.array([-1, HOP], dtype=np.int64),
        "one": np.array([1], dtype=np.int64),
        "four": np.array([4.0], dtype=np.float32),
        "out_shape": np.array([1, -1] if batched else [-1], dtype=np.int64),
    }
    nodes = [
        helper.make_node("Gather", ["table", token_input], ["rows"]),
        helper.make_node("Reshape", ["rows", "hop_shape"], ["per_token"]),
        helper.make_node("Cast", ["speed"], ["speed_f"], to=TensorProto.FLOAT),
        helper.make_node("Div", ["four", "speed_f"], ["repeats_f"]),
        helper.make_node("Ceil", ["repeats_f"], ["repeats_up"]),
        helper.make_node("Cast", ["repeats_up"], ["repeats"], to=TensorProto.INT64),
        helper.make_node("Concat", ["one", "repeats"], ["tile"], axis=0),
        helper.make_node("Tile", ["per_token", "tile"], ["stretched"]),
        helper.make_node("ReduceMean", ["style"], ["level"], keepdims=0),
        helper.make_node("Mul", ["stretched", "level"], ["scaled"]),
        helper.make_node("Tanh", ["scaled"], ["wave"]),
        helper.make_node("Reshape", ["wave", "out_shape"], ["waveform" if batched else "audio"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_kokoro",
        inputs=[
            helper.make_tensor_value_info(token_input, TensorProto.INT64, [1, "n"]),
            helper.make_tensor_value_info("style", TensorProto.FLOAT, [1, STYLE_WIDTH]),
            helper.make_tensor_value_info("speed", speed_type, [1]),
        ],
        outputs=[
            helper.make_tensor_value_info("waveform", TensorProto.FLOAT, [1, "samples"])
            if batched
            else helper.make_tensor_value_info("audio", TensorProto.FLOAT, ["samples"])
        ],
        initializer=[numpy_helper.from_array(value, name) for name, value in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if metadata:
        helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def voice_pack(level: float) -> np.ndarray:
    """One style row per token count; the row index is written into the vector so a
    test can tell which row reached the model."""
    rows = np.full((CONTEXT_TOKENS, 1, STYLE_WIDTH), level, dtype=np.float32)
    rows[:, 0, 0] = np.arange(CONTEXT_TOKENS)
    rows[:, 0, 1] = -np.arange(CONTEXT_TOKENS)  # keeps the mean at ``level``
    return rows


@pytest.fixture
def files(tmp_path):
    model = tiny_kokoro(tmp_path / "kokoro-tiny.onnx")
    voices = tmp_path / "voices-tiny.bin"
    with voices.open("wb") as handle:  # np.savez would append .npz to a path
        np.savez(handle, af_heart=voice_pack(0.5), am_adam=voice_pack(0.8), bf_emma=voice_pack(0.6))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"n_token": N_TOKEN, "vocab": VOCAB}), encoding="utf-8")
    return {"model": model, "voices": voices, "config": config}


def make_settings(tmp_path, model=None, voices=None, config=None) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", kokoro_model_path=model, kokoro_voices_path=voices, kokoro_config_path=config
    )


@pytest.fixture
def engine(tmp_path, files):
    return KokoroVoiceEngine(make_settings(tmp_path, files["model"], files["voices"], files["config"]))


@pytest.fixture
def runs(monkeypatch):
    """The feeds of every model call, recorded by a real onnxruntime session."""
    recorded: list[dict[str, np.ndarray]] = []

    class RecordingSession(onnxruntime.InferenceSession):
        def run(self, output_names, input_feed, run_options=None):
            recorded.append({name: value.copy() for name, value in input_feed.items()})
            return super().run(output_names, input_feed, run_options)

    monkeypatch.setattr(onnxruntime, "InferenceSession", RecordingSession)
    return recorded


def expected_samples(token_count: int, speed: float) -> int:
    """Spoken tokens stretched by the graph, plus the margin kept where the pads were."""
    repeats = math.ceil(4 / speed)
    pad = HOP * repeats
    return token_count * pad + 2 * min(MARGIN, pad)


def say(engine, text=TEXT, **profile):
    return engine.speak(SpeechRequest(text), VoiceProfile(engine="kokoro", **profile))


def test_utterance_is_float32_24khz_mono_without_timings(engine):
    utterance = say(engine)
    assert utterance.samples.dtype == np.float32 and utterance.samples.ndim == 1
    assert utterance.sample_rate_hz == SAMPLE_RATE_HZ == 24000
    assert utterance.words is None and utterance.phones is None
    assert np.abs(utterance.samples).max() <= 1.0
    assert 1.0 < utterance.duration_s < 10.0  # 30-odd tokens of 100 ms each


def test_tokens_style_and_speed_reach_the_model(engine, runs):
    utterance = say(engine, speaking_rate=1.25, voice="am_adam")
    (feeds,) = runs
    tokens = feeds["tokens"]
    assert tokens.dtype == np.int64 and tokens.shape[0] == 1
    assert tokens[0, 0] == 0 and tokens[0, -1] == 0  # a pad at each end
    spoken = tokens[0, 1:-1]
    assert set(spoken.tolist()) <= set(VOCAB.values())
    assert VOCAB[","] in spoken and VOCAB["?"] in spoken and VOCAB[" "] in spoken and VOCAB["ˈ"] in spoken
    # The style row for this many tokens, from the chosen voice.
    assert feeds["style"].shape == (1, STYLE_WIDTH) and feeds["style"].dtype == np.float32
    assert feeds["style"][0, 0] == spoken.size - 1
    assert feeds["style"][0, 2] == pytest.approx(0.8)
    assert feeds["speed"].dtype == np.float32 and feeds["speed"].tolist() == [1.25]
    assert utterance.samples.size == expected_samples(spoken.size, 1.25)


def test_speaking_rate_changes_the_length(engine, runs):
    normal, fast = say(engine, speaking_rate=1.0), say(engine, speaking_rate=2.0)
    token_count = runs[0]["tokens"].shape[1] - 2
    assert normal.samples.size == expected_samples(token_count, 1.0)
    assert fast.samples.size == expected_samples(token_count, 2.0)
    assert fast.samples.size < 0.6 * normal.samples.size


def test_voices_change_the_audio_and_af_heart_is_the_default(engine):
    default, heart, adam = say(engine), say(engine, voice="af_heart"), say(engine, voice="am_adam")
    np.testing.assert_array_equal(default.samples, heart.samples)
    assert default.samples.shape == adam.samples.shape
    assert np.abs(adam.samples).mean() > np.abs(heart.samples).mean()


def test_british_voices_get_british_phonemes_and_espeak_stays_american(engine, runs):
    say(engine, "Boats and goats.", voice="bf_emma")
    say(engine, "Boats and goats.", voice="af_heart")
    british, american = (feeds["tokens"][0].tolist() for feeds in runs)
    assert VOCAB["Q"] in british and VOCAB["O"] not in british
    assert VOCAB["O"] in american and VOCAB["Q"] not in american
    assert ipa_symbols("coats")[1:3] == ("o", "ʊ")  # the shared espeak is back on en-us


def test_espeak_spellings_become_kokoro_symbols():
    phonemes = kokoro.kokoro_phonemes("I bought five boats, judge the church bird.")
    assert phonemes.startswith("I bˈɔt fˈIv bˈOts,")
    assert "ʤˈʌʤ" in phonemes and "ʧˈɜɹʧ" in phonemes and "ː" not in phonemes
    assert phonemes.endswith(".")


def test_unknown_voice_names_some_that_exist(engine):
    with pytest.raises(VoiceError, match="unknown Kokoro voice 'zz_nobody'") as caught:
        say(engine, voice="zz_nobody")
    assert "af_heart" in caught.value.hint and "3 voices" in caught.value.hint


def test_text_without_sounds_is_a_text_error(engine):
    with pytest.raises(TextError):
        say(engine, "...")


def test_a_chunk_longer_than_the_context_is_cut_at_clauses(engine, runs):
    text = " ".join(["The quick brown fox jumps over the lazy dog, again and again."] * 14)
    utterance = say(engine, text)
    assert len(runs) >= 2
    lengths = [feeds["tokens"].shape[1] for feeds in runs]
    assert max(lengths) <= CONTEXT_TOKENS + 2
    for feeds in runs:  # each piece gets the style row for its own length
        assert feeds["style"][0, 0] == feeds["tokens"].shape[1] - 3
    cut_after = [feeds["tokens"][0, -2] for feeds in runs[:-1]]
    assert all(token in (VOCAB[","], VOCAB["."]) for token in cut_after)
    assert utterance.samples.size == sum(expected_samples(n - 2, 1.0) for n in lengths)


def test_split_for_context_falls_back_to_spaces_then_hard_cuts():
    assert kokoro.split_for_context("ab, cd ef", limit=5) == ["ab,", "cd ef"]
    assert kokoro.split_for_context("abc def ghi", limit=5) == ["abc", "def", "ghi"]
    assert kokoro.split_for_context("abcdefgh", limit=5) == ["abcde", "fgh"]


@pytest.mark.parametrize(
    ("missing", "message"),
    [("model_setting", "needs its model and voices"), ("voices_setting", "needs its model and voices"),
     ("model_file", "not found"), ("voices_file", "not found")],
)
def test_missing_settings_or_files_are_config_errors(tmp_path, files, missing, message):
    paths = {"model": files["model"], "voices": files["voices"], "config": files["config"]}
    kind, what = missing.split("_")
    paths[kind] = None if what == "setting" else tmp_path / "absent.bin"
    engine = KokoroVoiceEngine(make_settings(tmp_path, **paths))
    with pytest.raises(ConfigError, match=message) as caught:
        say(engine)
    hint = caught.value.hint
    assert "PERSONACAST_KOKORO_MODEL_PATH" in hint and "PERSONACAST_KOKORO_VOICES_PATH" in hint
    assert "kokoro-onnx" in hint and "Apache-2.0" in hint
    with pytest.raises(ConfigError):
        engine.cache_identity(VoiceProfile(engine="kokoro"))


def test_without_a_config_the_vocabulary_must_be_in_the_model(tmp_path, files):
    engine = KokoroVoiceEngine(make_settings(tmp_path, files["model"], files["voices"]))
    with pytest.raises(ConfigError, match="no phoneme vocabulary") as caught:
        say(engine)
    assert "PERSONACAST_KOKORO_CONFIG_PATH" in caught.value.hint

    metadata = {"kokoro_config": json.dumps({"vocab": VOCAB})}
    model = tiny_kokoro(tmp_path / "with-vocab.onnx", metadata=metadata)
    assert say(KokoroVoiceEngine(make_settings(tmp_path, model, files["voices"]))).samples.size > 0


def test_bad_files_are_config_errors(tmp_path, files):
    not_voices = tmp_path / "array.npy"
    np.save(not_voices, voice_pack(0.5))
    with pytest.raises(ConfigError, match="not a Kokoro voices file"):
        say(KokoroVoiceEngine(make_settings(tmp_path, files["model"], not_voices, files["config"])))

    bad_config = tmp_path / "bad.json"
    bad_config.write_text('{"n_token": 178}', encoding="utf-8")
    with pytest.raises(ConfigError, match="no Kokoro phoneme vocabulary"):
        say(KokoroVoiceEngine(make_settings(tmp_path, files["model"], files["voices"], bad_config)))

    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="cannot load the Kokoro model"):
        say(KokoroVoiceEngine(make_settings(tmp_path, garbage, files["voices"], files["config"])))


def test_other_graphs_are_refused(tmp_path, files):
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "other",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "other.onnx"))
    engine = KokoroVoiceEngine(make_settings(tmp_path, tmp_path / "other.onnx", files["voices"], files["config"]))
    with pytest.raises(ConfigError, match="not a Kokoro model: its inputs are x"):
        say(engine)


def test_input_ids_graph_with_integer_speed(tmp_path, files, runs):
    model = tiny_kokoro(tmp_path / "ids.onnx", token_input="input_ids", speed_type=TensorProto.INT32, batched=True)
    engine = KokoroVoiceEngine(make_settings(tmp_path, model, files["voices"], files["config"]))
    utterance = say(engine, speaking_rate=1.3)
    (feeds,) = runs
    assert "tokens" not in feeds and feeds["input_ids"].dtype == np.int64
    assert feeds["speed"].dtype == np.int32 and feeds["speed"].tolist() == [1]
    assert utterance.samples.ndim == 1
    assert utterance.samples.size == expected_samples(feeds["input_ids"].shape[1] - 2, 1.0)
    assert any("whole-number speed" in note for note in utterance.notes)
    assert not say(engine, speaking_rate=2.0).notes


def test_cache_identity_follows_the_files(tmp_path, files, engine):
    profile = VoiceProfile(engine="kokoro")
    before = engine.cache_identity(profile)
    assert "kokoro-tiny.onnx" in before and "voices-tiny.bin" in before and "config.json" in before
    tiny_kokoro(files["model"], metadata={"kokoro_config": json.dumps({"vocab": VOCAB})})
    assert engine.cache_identity(profile) != before
