from personacast.stages.voice.timeline import (
    TimedSymbol, align_words, merge_symbols, spoken_words, to_phones, written_words,
)


def sym(symbol, start, end):
    return TimedSymbol(symbol, start, end)


def test_stress_length_and_spaces_fold_into_sounds():
    raw = [sym("^", 0.0, 0.1), sym("h", 0.1, 0.2), sym("ˈ", 0.2, 0.3), sym("a", 0.3, 0.4), sym("ː", 0.4, 0.5),
           sym(" ", 0.5, 0.6), sym("m", 0.6, 0.7), sym(".", 0.7, 0.8), sym("$", 0.8, 0.9)]
    merged = merge_symbols(raw)
    assert [(s.symbol, round(s.start_s, 3), round(s.end_s, 3)) for s in merged] == [
        ("_", 0.0, 0.1), ("h", 0.1, 0.2), ("a", 0.2, 0.55), ("m", 0.55, 0.7), ("_", 0.7, 0.9)]
    assert [p.symbol for p in to_phones(merged)] == ["h", "a", "m"]


def test_words_get_the_span_of_their_sounds_even_when_rewritten():
    lexicon = {"Hi,": ["h", "a", "ɪ"], "$5": ["f", "a", "ɪ", "v", "d", "ɑ", "l", "ɚ", "z"], "ok": ["o", "k", "e"]}
    stream = "h a ɪ f a ɪ v d ɑ l ɚ z o k e".split()
    sounds = [sym(s, i * 0.1, (i + 1) * 0.1) for i, s in enumerate(stream)]
    words = align_words(["Hi,", "$5", "ok"], sounds, lambda w: lexicon[w])
    assert [(w.text, w.start_s, w.end_s) for w in words] == [("Hi,", 0.0, 0.3), ("$5", 0.3, 1.2), ("ok", 1.2, 1.5)]


def test_word_without_matching_sounds_sits_between_neighbours():
    sounds = [sym(s, i * 0.1, (i + 1) * 0.1) for i, s in enumerate(["a", "b"])]
    words = align_words(["A", "zzz", "B"], sounds, lambda w: {"A": ["a"], "B": ["b"], "zzz": ["q"]}[w])
    assert [(w.start_s, w.end_s) for w in words] == [(0.0, 0.1), (0.1, 0.1), (0.1, 0.2)]
    starts = [w.start_s for w in words]
    assert starts == sorted(starts)


def test_written_and_spoken_words():
    assert spoken_words("doctor Lee, hi. Fine!") == ["doctor", "Lee", "hi", "Fine"]
    assert written_words("Wait — really?! 3 cats") == ["Wait", "really?!", "3", "cats"]
