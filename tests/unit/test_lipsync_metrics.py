"""The pure metric functions of benchmarks/lipsync_quality.py, on synthetic signals."""

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "lipsync_quality.py"


def _load():
    # benchmarks/ is not a package; load the script by path (it renders nothing on import).
    spec = importlib.util.spec_from_file_location("lipsync_quality", _PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


lq = _load()


def test_phone_openness_uses_the_viseme_table_and_zeroes_silence_and_bilabials():
    assert lq.phone_openness("AA1") == pytest.approx(0.95)
    assert lq.phone_openness("IY") == pytest.approx(0.3)
    for symbol in ("P", "B", "M", "SIL", "SP", "+NSN+", ""):
        assert lq.phone_openness(symbol) == 0.0


def test_expected_openness_takes_the_phone_at_each_frame_centre():
    # fps 10: centres at 0.05, 0.15, ..., 0.55; nothing is heard after 0.4 s.
    phones = [("SIL", 0.0, 0.1), ("AA", 0.1, 0.2), ("M", 0.2, 0.3), ("IY", 0.3, 0.4)]
    expected = lq.expected_openness(phones, 6, 10)
    np.testing.assert_allclose(expected, [0.0, 0.95, 0.0, 0.3, 0.0, 0.0])


def test_a_centre_on_a_boundary_belongs_to_the_later_phone():
    # fps 4: centres 0.125, 0.375, 0.625, 0.875 (exact in binary).
    phones = [("AA", 0.0, 0.375), ("IY", 0.375, 1.0)]
    np.testing.assert_array_equal(lq.phone_index_at_frames(phones, 4, 4), [0, 1, 1, 1])
    np.testing.assert_array_equal(lq.phone_index_at_frames([], 3, 4), [-1, -1, -1])


def _signal(n=200, seed=3):
    rng = np.random.default_rng(seed)
    return rng.random(n)


@pytest.mark.parametrize("shift", [2, -3])
def test_a_shifted_signal_is_found_at_its_lag_with_the_sign_convention(shift):
    expected = _signal()
    # shift > 0: the mouth does at t what the sound did at t - shift (video behind).
    measured = np.full_like(expected, 0.5)
    if shift > 0:
        measured[shift:] = expected[:-shift]
    else:
        measured[:shift] = expected[-shift:]
    r = lq.lagged_pearson([(measured, expected)])
    assert sorted(r) == list(range(-5, 6))
    lag, best = lq.best_lag(r)
    assert lag == shift
    assert best == pytest.approx(1.0, abs=1e-12)
    assert r[0] < 0.5


def test_nan_frames_are_skipped_not_propagated():
    expected = _signal()
    measured = np.concatenate([[0.0, 0.0], expected[:-2]])
    measured[[10, 50, 51]] = np.nan
    lag, best = lq.best_lag(lq.lagged_pearson([(measured, expected)]))
    assert (lag, best) == (2, pytest.approx(1.0, abs=1e-12))


def test_pooled_lags_pair_frames_within_each_segment_only():
    a_m, a_e = _signal(40, 1), _signal(40, 2)
    b_m, b_e = _signal(30, 3), _signal(30, 4)
    r = lq.lagged_pearson([(a_m, a_e), (b_m, b_e)], lags=[3, -2])
    by_hand_3 = lq.pearson(np.concatenate([a_m[3:], b_m[3:]]), np.concatenate([a_e[:-3], b_e[:-3]]))
    by_hand_m2 = lq.pearson(np.concatenate([a_m[:-2], b_m[:-2]]), np.concatenate([a_e[2:], b_e[2:]]))
    assert r[3] == pytest.approx(by_hand_3)
    assert r[-2] == pytest.approx(by_hand_m2)
    # A segment shorter than the lag contributes nothing rather than failing.
    assert lq.lagged_pearson([(a_m, a_e), (b_m[:2], b_e[:2])], lags=[3])[3] == pytest.approx(
        lq.lagged_pearson([(a_m, a_e)], lags=[3])[3]
    )


def test_pearson_is_undefined_for_flat_or_tiny_inputs():
    assert math.isnan(lq.pearson(np.ones(10), np.arange(10.0)))
    assert math.isnan(lq.pearson(np.array([1.0, 2.0]), np.array([2.0, 1.0])))
    assert lq.pearson(np.arange(5.0), -np.arange(5.0)) == pytest.approx(-1.0)


def test_best_lag_prefers_the_smaller_shift_on_a_tie_and_skips_nan():
    assert lq.best_lag({-2: 0.7, -1: 0.5, 1: 0.7, 2: math.nan}) == (1, 0.7)
    assert lq.best_lag({-1: 0.4, 1: 0.4, 0: 0.1}) == (1, 0.4)
    lag, r = lq.best_lag({0: math.nan})
    assert lag is None and math.isnan(r)


def test_overlapping_frames_cover_the_phone_plus_one_frame_each_side():
    # fps 10: frame i is shown from i/10 to (i+1)/10.
    assert lq.overlapping_frames(0.3, 0.5, 10, 20) == range(2, 6)  # frames 3, 4 (+-1)
    assert lq.overlapping_frames(0.3, 0.5, 10, 20, widen=0) == range(3, 5)
    assert lq.overlapping_frames(0.31, 0.32, 10, 20) == range(2, 5)  # inside frame 3
    assert lq.overlapping_frames(0.0, 0.1, 10, 20) == range(0, 2)  # clipped at the start
    assert lq.overlapping_frames(1.9, 2.0, 10, 20) == range(18, 20)  # and at the end


def test_closure_checks_count_each_bilabial_with_the_widened_window():
    fps = 10
    measured = np.full(20, 0.1)
    measured[4] = 0.01  # next to the /p/ in frame 3: closed thanks to the +-1 window
    measured[9] = 0.03  # exactly at the threshold: closed
    measured[14:17] = np.nan  # no face around the /m/: not measured
    phones = [
        ("AA", 0.0, 0.3, "pa"),
        ("P", 0.3, 0.4, "pa"),
        ("B", 0.9, 1.0, "bob"),
        ("IY", 1.0, 1.1, "bee"),
        ("B1", 1.2, 1.25, "bee"),  # stress digits are ignored; stays open at 0.1
        ("M", 1.5, 1.6, "mom"),
    ]
    checks = lq.closure_checks(measured, phones, fps, threshold=0.03)
    assert [c["phone"] for c in checks] == ["P", "B", "B1", "M"]
    assert [c["closed"] for c in checks] == [True, True, False, None]
    assert checks[0]["min_openness"] == pytest.approx(0.01)
    assert checks[2]["word"] == "bee" and checks[2]["min_openness"] == pytest.approx(0.1)
    assert lq.closure_share(checks) == (2, 3)
    # Without widening, the /p/ only sees its own frame, which is open.
    assert lq.closure_checks(measured, phones, fps, threshold=0.03, widen=0)[0]["closed"] is False
    assert lq.closure_share([]) == (0, 0)


def test_openness_by_class_medians():
    fps = 10
    phones = [("SIL", 0.0, 0.2), ("M", 0.2, 0.4), ("AA", 0.4, 0.6)]
    measured = np.array([0.02, 0.04, 0.01, 0.03, 0.2, np.nan])
    medians = lq.openness_by_class(measured, phones, fps)
    assert medians["silence"] == pytest.approx(0.03) and medians["silence_frames"] == 2
    assert medians["pbm"] == pytest.approx(0.02)
    assert medians["open_vowel"] == pytest.approx(0.2) and medians["open_vowel_frames"] == 1


def test_alignment_words_drop_punctuation_and_keep_apostrophes():
    assert lq.alignment_words("Bob's father, my MOM! Don't -- 'stop'.") == ["bob's", "father", "my", "mom", "don't", "stop"]


def test_every_script_word_is_plain_text_for_the_dictionary():
    # The CMU dictionary has no digits; a script with them would fail to align.
    for _, text in lq.SCRIPTS:
        assert not any(ch.isdigit() for ch in text)
        assert 25 <= len(lq.alignment_words(text)) <= 50  # roughly 8-15 s of speech
