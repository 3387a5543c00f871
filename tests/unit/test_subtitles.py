import re

import pytest

from personacast.models import CaptionStyle, Word
from personacast.stages.compose.captions import paginate
from personacast.stages.compose.subtitles import (
    MIN_CUE_S,
    Cue,
    subtitle_cues,
    to_srt,
    to_webvtt,
    write_subtitles,
)


def words(*spans):
    return [Word(text=t, start_s=a, end_s=b) for t, a, b in spans]


# Pages (max 3 words): [Hi, I'm Sofia!] 0.0-1.2 (long pause), [Today we cook] 1.6-2.3
# (held to the next page), [pasta] 2.3-3.2 (last page: +0.4 s).
SPEECH = words(("Hi,", 0.0, 0.3), ("I'm", 0.35, 0.5), ("Sofia!", 0.5, 1.0), ("Today", 1.6, 1.9),
               ("we", 1.9, 2.0), ("cook", 2.0, 2.3), ("pasta", 2.3, 2.8))

SPEECH_SRT = (
    "1\n00:00:00,000 --> 00:00:01,200\nHi, I'm Sofia!\n\n"
    "2\n00:00:01,600 --> 00:00:02,300\nToday we cook\n\n"
    "3\n00:00:02,300 --> 00:00:03,200\npasta\n\n"
)

SPEECH_VTT = (
    "WEBVTT\n\n"
    "00:00:00.000 --> 00:00:01.200\nHi, I'm Sofia!\n\n"
    "00:00:01.600 --> 00:00:02.300\nToday we cook\n\n"
    "00:00:02.300 --> 00:00:03.200\npasta\n\n"
)


def parse_srt(text):
    """(start_s, end_s, text) per block of a SubRip file."""
    stamp = r"(\d+):(\d\d):(\d\d),(\d{3})"
    result = []
    for block in text.strip("\n").split("\n\n"):
        index, times, body = block.split("\n", 2)
        match = re.fullmatch(f"{stamp} --> {stamp}", times)
        assert match, times
        h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, match.groups())
        result.append((int(index), h1 * 3600 + m1 * 60 + s1 + ms1 / 1000, h2 * 3600 + m2 * 60 + s2 + ms2 / 1000, body))
    return result


def assert_well_formed(cues):
    for cue in cues:
        assert cue.end_s - cue.start_s >= MIN_CUE_S - 1e-12, cue
        assert cue.text
    for a, b in zip(cues, cues[1:]):
        assert a.start_s <= b.start_s and a.end_s <= b.start_s, (a, b)


def test_cues_match_the_burned_in_pages():
    for max_words in (1, 2, 3, 5):
        style = CaptionStyle(max_words=max_words)
        pages = paginate(SPEECH, max_words)
        cues = subtitle_cues(SPEECH, style)
        assert [(c.start_s, c.end_s) for c in cues] == [(p.start_s, p.end_s) for p in pages]
        assert [c.text for c in cues] == [" ".join(w.text for w in p.words) for p in pages]
        assert_well_formed(cues)


def test_speech_cues_exactly():
    assert subtitle_cues(SPEECH, CaptionStyle(max_words=3)) == [
        Cue(0.0, 1.2, "Hi, I'm Sofia!"),
        Cue(1.6, 2.3, "Today we cook"),
        Cue(2.3, 2.8 + 0.4, "pasta"),
    ]


def test_srt_exact_text():
    assert to_srt(subtitle_cues(SPEECH, CaptionStyle(max_words=3))) == SPEECH_SRT


def test_webvtt_exact_text():
    assert to_webvtt(subtitle_cues(SPEECH, CaptionStyle(max_words=3))) == SPEECH_VTT


def test_no_words_gives_empty_files():
    assert subtitle_cues([], CaptionStyle()) == []
    assert to_srt([]) == ""
    assert to_webvtt([]) == "WEBVTT\n\n"


@pytest.mark.parametrize(
    ("seconds", "srt", "vtt"),
    [
        (3661.2345, "01:01:01,235", "01:01:01.235"),
        (0.0, "00:00:00,000", "00:00:00.000"),
        (0.0005, "00:00:00,001", "00:00:00.001"),  # half-up
        (2.0625, "00:00:02,063", "00:00:02.063"),  # half-up, not half-to-even
        (59.9996, "00:01:00,000", "00:01:00.000"),  # carries into the minute
        (3.1999999999999997, "00:00:03,200", "00:00:03.200"),  # 2.8 + 0.4
        (360000.0, "100:00:00,000", "100:00:00.000"),  # 100 hours
        (-0.5, "00:00:00,000", "00:00:00.000"),  # never negative
    ],
)
def test_timestamp_format(seconds, srt, vtt):
    cue = Cue(seconds, seconds, "x")
    assert to_srt([cue]) == f"1\n{srt} --> {srt}\nx\n\n"
    assert to_webvtt([cue]) == f"WEBVTT\n\n{vtt} --> {vtt}\nx\n\n"


def test_rounding_never_puts_end_before_start():
    assert to_srt([Cue(1.0006, 1.0004, "x")]) == "1\n00:00:01,001 --> 00:00:01,001\nx\n\n"


def test_webvtt_escapes_markup_and_srt_keeps_it():
    speech = words(("Salt", 0.0, 0.4), ("&", 0.4, 0.5), ("<b>pepper</b>", 0.5, 1.0), ("-->", 1.0, 1.2))
    cues = subtitle_cues(speech, CaptionStyle(max_words=4))
    assert to_webvtt(cues) == "WEBVTT\n\n00:00:00.000 --> 00:00:01.600\nSalt &amp; &lt;b&gt;pepper&lt;/b&gt; --&gt;\n\n"
    assert to_srt(cues) == "1\n00:00:00,000 --> 00:00:01,600\nSalt & <b>pepper</b> -->\n\n"


def test_newlines_inside_words_are_flattened():
    speech = words(("multi\nline", 0.0, 0.5), ("word\r\n", 0.5, 1.0))
    cues = subtitle_cues(speech, CaptionStyle(max_words=3))
    assert [c.text for c in cues] == ["multi line word"]
    assert to_srt(cues) == "1\n00:00:00,000 --> 00:00:01,400\nmulti line word\n\n"
    # Hand-made cues with line breaks cannot break the file structure either.
    assert to_srt([Cue(0.0, 1.0, "a\n\nb")]) == "1\n00:00:00,000 --> 00:00:01,000\na b\n\n"
    assert to_webvtt([Cue(0.0, 1.0, "a\n\nb")]) == "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\na b\n\n"


def test_uppercase_style():
    cues = subtitle_cues(SPEECH, CaptionStyle(max_words=3, uppercase=True))
    assert [c.text for c in cues] == ["HI, I'M SOFIA!", "TODAY WE COOK", "PASTA"]
    assert "1\n00:00:00,000 --> 00:00:01,200\nHI, I'M SOFIA!\n\n" in to_srt(cues)


def test_disabled_style_still_makes_cues():
    enabled = subtitle_cues(SPEECH, CaptionStyle(max_words=3))
    assert subtitle_cues(SPEECH, CaptionStyle(max_words=3, enabled=False)) == enabled


def test_overlapping_and_out_of_order_words_give_monotonic_cues():
    # "Two." starts before "One." (a glitchy aligner): paginate's pages overlap and
    # the first one even ends before it starts.
    speech = words(("One.", 1.0, 1.5), ("Two.", 0.5, 0.8), ("Three", 3.0, 3.5))
    pages = paginate(speech, 3)
    assert pages[0].end_s < pages[0].start_s  # the raw pages really are broken
    cues = subtitle_cues(speech, CaptionStyle(max_words=3))
    assert cues == [
        Cue(0.5, 1.0, "Two."),  # clamped to the next cue's start
        Cue(1.0, 1.0 + MIN_CUE_S, "One."),  # lengthened to the minimum
        Cue(3.0, 3.9, "Three"),
    ]
    assert_well_formed(cues)


def test_zero_length_page_is_lengthened_and_pushes_the_next():
    speech = words(("Hi.", 1.0, 1.0), ("Yo.", 1.0, 1.3))
    cues = subtitle_cues(speech, CaptionStyle())
    assert cues == [Cue(1.0, 1.0 + MIN_CUE_S, "Hi."), Cue(1.0 + MIN_CUE_S, 1.3 + 0.4, "Yo.")]
    assert_well_formed(cues)
    parsed = parse_srt(to_srt(cues))
    assert [(a, b) for _, a, b, _ in parsed] == [(1.0, 1.002), (1.002, 1.7)]


def test_empty_words_do_not_make_cues():
    speech = words(("Hello.", 0.0, 0.5), (" ", 0.5, 0.6), ("\n", 0.6, 0.7), ("there", 2.0, 2.5))
    cues = subtitle_cues(speech, CaptionStyle(max_words=1))
    assert [c.text for c in cues] == ["Hello.", "there"]
    assert_well_formed(cues)


def test_many_random_like_words_stay_monotonic_and_non_overlapping():
    spans = []
    t = 0.0
    for i in range(200):
        length = 0.05 + (i * 37 % 11) / 20
        gap = (i * 53 % 7) / 10 - 0.1  # some negative gaps: overlapping words
        text = "word." if i % 9 == 0 else "w"
        spans.append((text, t, t + length))
        t += length + gap
    speech = words(*spans)
    for max_words in (1, 3, 6):
        cues = subtitle_cues(speech, CaptionStyle(max_words=max_words))
        assert_well_formed(cues)
        parsed = parse_srt(to_srt(cues))
        for (_, a, b, _), (_, c, _, _) in zip(parsed, parsed[1:]):
            assert a < b <= c


def test_srt_round_trips_within_a_millisecond():
    speech = words(("Hi,", 0.0123, 0.3333), ("I'm", 0.35, 0.5), ("Sofia!", 0.5, 1.0004),
                   ("Today", 1.6666, 1.9), ("we", 1.9, 2.0), ("cook", 2.0, 2.3), ("pasta", 2.3, 3725.7777))
    cues = subtitle_cues(speech, CaptionStyle(max_words=3))
    parsed = parse_srt(to_srt(cues))
    assert [i for i, *_ in parsed] == list(range(1, len(cues) + 1))
    for cue, (_, start, end, text) in zip(cues, parsed, strict=True):
        assert abs(start - cue.start_s) <= 0.0005 + 1e-9
        assert abs(end - cue.end_s) <= 0.0005 + 1e-9
        assert text == cue.text


def test_write_subtitles_writes_both_files_atomically(tmp_path):
    video = tmp_path / "OUT.mp4"
    (tmp_path / "OUT.srt").write_text("stale", encoding="utf-8")  # replaced, not appended to
    speech = words(("Café", 0.0, 0.5), ("à", 0.5, 0.7), ("l'œuf!", 0.7, 1.0))
    srt_path, vtt_path = write_subtitles(speech, CaptionStyle(max_words=3), video)
    assert (srt_path, vtt_path) == (tmp_path / "OUT.srt", tmp_path / "OUT.vtt")
    assert srt_path.read_bytes() == "1\n00:00:00,000 --> 00:00:01,400\nCafé à l'œuf!\n\n".encode()
    assert vtt_path.read_bytes() == "WEBVTT\n\n00:00:00.000 --> 00:00:01.400\nCafé à l'œuf!\n\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["OUT.srt", "OUT.vtt"]  # no temp files left


def test_write_subtitles_matches_the_formatters(tmp_path):
    srt_path, vtt_path = write_subtitles(SPEECH, CaptionStyle(max_words=3, enabled=False), tmp_path / "clip.final.mp4")
    assert srt_path.name == "clip.final.srt" and vtt_path.name == "clip.final.vtt"
    assert srt_path.read_text(encoding="utf-8") == SPEECH_SRT
    assert vtt_path.read_text(encoding="utf-8") == SPEECH_VTT
