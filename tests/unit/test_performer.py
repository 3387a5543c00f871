import numpy as np
import pytest

from personacast.models import Phone, Timeline, Word
from personacast.stages.perform.performance import Performance
from personacast.stages.perform.performer import DefaultPerformer
from personacast.stages.perform.visemes import viseme_for


def test_visemes_for_ipa_and_arpabet():
    assert viseme_for("p").name == viseme_for("B").name == viseme_for("m").name == "closed"
    assert viseme_for("a").name == viseme_for("AA1").name == "open"
    assert viseme_for("u").lip_width < 0 < viseme_for("i").lip_width
    assert viseme_for("f").name == "lip_teeth"
    assert viseme_for("tʃ").name == viseme_for("dʒ").name == viseme_for("CH").name == "postalveolar"
    assert viseme_for("t").name == "alveolar"
    assert viseme_for("?").name == viseme_for("").name == "rest"


def timeline(phones, duration):
    return Timeline(words=[Word(text="x", start_s=phones[0][1], end_s=phones[-1][2])],
                    phonemes=[Phone(symbol=s, start_s=a, end_s=b) for s, a, b in phones], duration_s=duration)


def test_short_bilabial_still_closes_for_two_frames_between_open_vowels():
    tl = timeline([("a", 0.2, 0.5), ("b", 0.5, 0.52), ("a", 0.52, 0.9)], 1.2)
    perf = DefaultPerformer().perform(tl, 30, 36, seed=1)
    closed = np.flatnonzero(perf.lip_close > 0.5)
    assert len(closed) >= 2 and np.all(np.diff(closed) == 1)
    assert 13 <= closed[0] <= 16  # the 20 ms /b/ at 0.5 s, with its anticipation
    assert perf.jaw_open[closed].max() <= 0.051
    assert perf.jaw_open[9] > 0.6 and perf.jaw_open[22] > 0.6


def test_rest_pose_in_silence_and_smooth_opening():
    tl = timeline([("a", 1.0, 1.4)], 3.0)
    perf = DefaultPerformer().perform(tl, 30, 90, seed=1)
    assert perf.jaw_open[:24].max() < 0.02 and perf.jaw_open[60:].max() < 0.02
    assert perf.jaw_open[30:40].max() > 0.8
    assert np.abs(np.diff(perf.jaw_open)).max() < 0.5  # no one-frame snaps from rest to wide open
    # The mouth starts opening before the sound (anticipation).
    assert perf.jaw_open[29] > 0.2


def test_blinks_at_plausible_intervals_and_deterministic():
    tl = timeline([("a", 0.5, 1.0)], 60.0)
    a = DefaultPerformer().perform(tl, 30, 1800, seed=3)
    b = DefaultPerformer().perform(tl, 30, 1800, seed=3)
    c = DefaultPerformer().perform(tl, 30, 1800, seed=4)
    assert np.array_equal(a.blink, b.blink) and np.array_equal(a.head_yaw_deg, b.head_yaw_deg)
    assert not np.array_equal(a.blink, c.blink)
    closed = a.blink > 0.9
    onsets = np.flatnonzero(closed[1:] & ~closed[:-1]) / 30
    assert 9 <= len(onsets) <= 30  # one every 2-6 s over 60 s
    assert np.diff(onsets).min() >= 2.0
    assert np.abs(a.head_roll_deg).max() < 3 and np.abs(np.diff(a.head_yaw_deg)).max() < 0.5


def test_emphasised_words_raise_the_brows():
    phones = [Phone(symbol="a", start_s=0.5, end_s=0.7), Phone(symbol="a", start_s=1.5, end_s=1.7)]
    plain = Timeline(words=[Word(text="so", start_s=0.5, end_s=0.7), Word(text="good", start_s=1.5, end_s=1.7)],
                     phonemes=phones, duration_s=2.5)
    marked = plain.model_copy(update={"words": [plain.words[0], plain.words[1].model_copy(update={"emphasis": True})]})
    calm = DefaultPerformer().perform(plain, 30, 75, seed=2)
    keen = DefaultPerformer().perform(marked, 30, 75, seed=2)
    assert calm.brow_raise.max() < 0.05
    assert keen.brow_raise[45:55].max() > 0.8 and keen.brow_raise[:30].max() < 0.05


def test_a_performance_at_rest_but_for_the_curves_given():
    perf = Performance.at_rest(24, 3, jaw_open=[0, 0.5, 1], head_dx=np.array([0.1, 0.2, 0.3]))
    assert perf.fps == 24 and perf.frame_count == 3
    assert perf.jaw_open.dtype == np.float32 and perf.jaw_open.tolist() == [0, 0.5, 1]
    assert np.allclose(perf.head_dx, [0.1, 0.2, 0.3])
    assert not perf.blink.any() and perf.brow_raise.shape == (3,)
    with pytest.raises(TypeError, match="jaw_opne"):
        Performance.at_rest(24, 3, jaw_opne=[0, 0, 0])
    with pytest.raises(ValueError, match="blink"):
        Performance.at_rest(24, 3, blink=[0, 1])
