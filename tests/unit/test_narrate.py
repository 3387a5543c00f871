"""The narrator with scripted engines: planning, pauses, written words, streaming."""

import tracemalloc

import numpy as np
import pytest

from personacast.errors import BackendError, TextError
from personacast.media.wav import read_wav
from personacast.models import Phone, VoiceProfile, Word
from personacast.stages.voice.narrate import narrate, plan_speech
from personacast.stages.voice.timeline import spoken_words
from personacast.stages.voice.utterance import Utterance

WORD_S, GAP_S = 0.2, 0.05


class ToneEngine:
    """Each spoken word is WORD_S of tone then GAP_S of silence; times are exact."""

    name = "tone"
    max_chunk_chars = 400

    def __init__(self, rate_hz=16000, timed=True, rates=None):
        self.rate_hz, self.timed, self.rates = rate_hz, timed, rates
        self.requests = []

    def cache_identity(self, profile):
        return "tone"

    def speak(self, request, profile):
        self.requests.append(request)
        rate = self.rates[(len(self.requests) - 1) % len(self.rates)] if self.rates else self.rate_hz
        words = spoken_words(request.text)
        t = np.arange(int(WORD_S * rate)) / rate
        tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
        gap = np.zeros(int(GAP_S * rate), np.float32)
        samples = np.concatenate([piece for _ in words for piece in (tone, gap)])
        timed = [Word(text=w, start_s=i * (WORD_S + GAP_S), end_s=i * (WORD_S + GAP_S) + WORD_S) for i, w in enumerate(words)]
        phones = [Phone(symbol="a", start_s=w.start_s, end_s=w.end_s) for w in timed]
        return Utterance(samples, rate, timed if self.timed else None, phones if self.timed else None, len(request.text))


class RecordingAligner:
    def __init__(self):
        self.calls = []

    def align(self, samples, rate_hz, words):
        self.calls.append(list(words))
        step = samples.size / rate_hz / len(words)
        timed = [Word(text=w, start_s=i * step, end_s=(i + 1) * step) for i, w in enumerate(words)]
        return timed, [Phone(symbol="AA", start_s=w.start_s, end_s=w.end_s) for w in timed], []


def test_plan_keeps_sentences_pauses_and_silent_words_together():
    profile = VoiceProfile(sentence_pause_s=0.3, paragraph_pause_s=0.8)
    chunks = plan_speech("[pause 1s] Hi Dr. Lee, I paid $5 🔥. Wow! [pause] Next\n\nNew one. End [pause 2s]", profile, 400)
    assert [(c.text, c.pause_after_s) for c in chunks] == [
        ("", 1.0),
        ("Hi doctor Lee, I paid five dollars.", 0.3),
        ("Wow!", 0.5),  # the [pause] replaces the sentence pause
        ("Next", 0.8),  # end of paragraph
        ("New one.", 0.3),
        ("End", 2.0),
    ]
    assert [t.written for t, _ in chunks[1].entries][-2:] == ["$5", "🔥."]


def test_long_sentences_are_cut_after_clauses():
    text = "one, two, three, four, five six seven eight nine ten eleven twelve."
    chunks = plan_speech(text, VoiceProfile(), 30)
    assert [c.text for c in chunks] == ["one, two, three, four,", "five six seven eight nine ten", "eleven twelve."]
    assert all(len(c.text) <= 30 for c in chunks)
    assert [c.pause_after_s for c in chunks] == [0.0, 0.0, 0.3]


def test_written_words_span_their_spoken_words(tmp_path):
    engine = ToneEngine()
    track = narrate(engine, "I paid $5 🔥. [pause 1s] *Wow*!", VoiceProfile(), tmp_path / "v.wav")
    words = track.timeline.words
    assert [w.text for w in words] == ["I", "paid", "$5", "🔥.", "Wow!"]
    assert [w.emphasis for w in words] == [False, False, False, False, True]
    five_dollars = words[2]
    assert five_dollars.end_s - five_dollars.start_s == pytest.approx(2 * WORD_S + GAP_S, abs=1e-3)
    assert words[3].start_s == words[3].end_s == five_dollars.end_s  # the emoji is silent
    # the first sentence is 4 spoken words long, then the 1 s pause
    assert words[4].start_s == pytest.approx(4 * (WORD_S + GAP_S) + 1.0, abs=1e-3)
    assert [r.text for r in engine.requests] == ["I paid five dollars.", "Wow!"]
    assert engine.requests[1].previous_text == "I paid five dollars."
    assert track.billed_characters == len("I paid five dollars.") + len("Wow!")

    samples, rate = read_wav(track.audio_path)
    assert samples.size / rate == pytest.approx(track.duration_s)
    pause = samples[int((words[3].end_s + 0.1) * rate) : int((words[4].start_s - 0.05) * rate)]
    assert pause.size > 0.7 * rate and np.abs(pause).max() < 1e-3
    for items in (words, track.timeline.phonemes):
        assert all(0 <= i.start_s <= i.end_s <= track.duration_s for i in items)
        assert [i.start_s for i in items] == sorted(i.start_s for i in items)


def test_engines_without_timings_are_force_aligned(tmp_path):
    aligner = RecordingAligner()
    track = narrate(ToneEngine(timed=False), "Meet @sofia_daily at 7pm.", VoiceProfile(), tmp_path / "v.wav", aligner)
    assert aligner.calls == [["Meet", "at", "sofia", "daily", "at", "seven", "P", "M"]]
    assert [w.text for w in track.timeline.words] == ["Meet", "@sofia_daily", "at", "7pm."]
    assert {p.symbol for p in track.timeline.phonemes} == {"AA"}


def test_mixed_rates_are_resampled_to_the_first(tmp_path):
    engine = ToneEngine(rates=[16000, 24000])
    track = narrate(engine, "One two. Three four.", VoiceProfile(sentence_pause_s=0.0), tmp_path / "v.wav")
    samples, rate = read_wav(track.audio_path)
    assert rate == 16000
    assert samples.size / rate == pytest.approx(4 * (WORD_S + GAP_S), abs=2e-3)


def test_nothing_to_say_and_broken_engines(tmp_path):
    with pytest.raises(TextError, match="nothing to say out loud"):
        narrate(ToneEngine(), "🔥🔥 [pause]", VoiceProfile(), tmp_path / "v.wav")

    class Silent(ToneEngine):
        def speak(self, request, profile):
            return Utterance(np.zeros(0, np.float32), 16000, [], [])

    with pytest.raises(BackendError, match="returned no audio"):
        narrate(Silent(), "Hello there.", VoiceProfile(), tmp_path / "v.wav")


@pytest.mark.timeout(120)
def test_ten_minute_script_is_streamed_with_bounded_memory(tmp_path):
    sentence = "This sentence has exactly eight words in it. "
    text = sentence * 300  # 2400 words: 600 s of tone speech at 0.25 s a word
    engine = ToneEngine()
    tracemalloc.start()
    track = narrate(engine, text, VoiceProfile(sentence_pause_s=0.0, paragraph_pause_s=0.0), tmp_path / "v.wav")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert track.duration_s == pytest.approx(600.0, abs=0.5)
    assert len(track.timeline.words) == 2400 and len(engine.requests) == 300
    # The whole track as float32 would be 38 MB; only a sentence is ever held.
    assert peak < 12 * 2**20
