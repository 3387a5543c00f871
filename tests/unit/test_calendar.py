"""The content calendar (dates, times, per-day counts, topic rotation, determinism, the
plan file) and batch rendering (resume, failures recorded, the batch goes on)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from personacast.errors import BackendError, ConfigError, ContentError
from personacast.models import Character, OutputProperties, Persona, RenderResult, Timeline, VoiceProfile
from personacast.planning.batch import REPORT_NAME, completed, run_batch, video_path
from personacast.planning.calendar import (
    PlannedPost,
    load_plan,
    plan_posts,
    posting_times,
    read_topics,
    rotate_topics,
    save_plan,
)
from personacast.settings import Settings
from personacast.stages.write.template import TemplateWriter
from personacast.stages.write.written import Usage, WriteResult, WritingBrief, WrittenScene, WrittenScript

TOPICS = ["cold brew at home", "latte art", "choosing beans", "milk frothing", "espresso basics"]
START = dt.date(2026, 12, 1)
CHARACTER = Character(
    name="Sofia", images=[Path("face.png")], voice=VoiceProfile(engine="espeak", voice="en-us+f3"),
    persona=Persona(tone="playful", topics=["a", "b"]),
)


def plan(days: int = 7, per_day: int = 3, seed: int = 5, topics: list[str] = TOPICS, writer=None):
    writer = writer or TemplateWriter(Settings())
    return plan_posts(CHARACTER, writer, topics, START, days, per_day, 20, "reels", seed, character_ref="/chars/sofia")


def test_topics_file(tmp_path):
    path = tmp_path / "topics.txt"
    path.write_text("cold brew at home\n\n# ideas for later\n  latte   art \nCold brew at home\nchoosing beans\n", encoding="utf-8")
    assert read_topics(path) == ["cold brew at home", "latte art", "choosing beans"]
    with pytest.raises(ConfigError, match="cannot read the topics file"):
        read_topics(tmp_path / "missing.txt")


def test_posting_times_spread_through_the_day():
    assert posting_times(1) == ["14:30"]
    assert posting_times(3) == ["10:15", "14:30", "18:45"]
    times = posting_times(12)
    assert times == sorted(times) and len(set(times)) == 12 and times[0] >= "08:00" and times[-1] <= "21:00"
    assert all(int(t[-2:]) % 15 == 0 for t in times)


def test_rotation_never_repeats_a_topic_on_a_day_and_is_balanced():
    days = rotate_topics(TOPICS, days=7, per_day=3, seed=1)
    assert len(days) == 7 and all(len(day) == 3 and len(set(day)) == 3 for day in days)
    counts = Counter(topic for day in days for topic in day)
    assert set(counts) == set(TOPICS) and max(counts.values()) - min(counts.values()) <= 1
    assert rotate_topics(TOPICS, 7, 3, seed=1) == days
    assert rotate_topics(TOPICS, 7, 3, seed=2) != days


def test_rotation_needs_enough_topics():
    with pytest.raises(ConfigError, match="3 posts a day need at least 3 different topics; there are 2"):
        rotate_topics(["a", "b"], 1, 3, 0)
    with pytest.raises(ConfigError, match="no topics"):
        rotate_topics([], 1, 1, 0)


def test_plan_dates_counts_fields_and_variants():
    outcome = plan()
    posts = outcome.posts
    assert not outcome.failures and len(posts) == 21
    assert [p.id for p in posts[:4]] == ["2026-12-01-1", "2026-12-01-2", "2026-12-01-3", "2026-12-02-1"]
    by_day = Counter(post.date for post in posts)
    assert sorted(by_day) == [START + dt.timedelta(days=d) for d in range(7)] and set(by_day.values()) == {3}
    for day in by_day:
        todays = [p for p in posts if p.date == day]
        assert [p.time for p in todays] == posting_times(3) and len({p.topic for p in todays}) == 3
    for post in posts:
        assert post.text == " ".join(scene.text for scene in post.scenes) and post.caption and post.hashtags
        assert (post.format, post.character, post.writer) == ("reels", "/chars/sofia", "template")
        assert post.estimated_seconds <= 23
    # A topic's later posts are new variants, not the same script again.
    repeats = [p for p in posts if p.topic == posts[0].topic]
    assert len(repeats) >= 4 and len({p.title for p in repeats}) == len(repeats)
    assert outcome.usage == Usage()


def test_plan_is_deterministic_for_a_seed():
    first, again, other = (plan(days=3, per_day=2, seed=seed).posts for seed in (3, 3, 4))
    assert first == again
    assert [p.topic for p in first] != [p.topic for p in other]


class FlakyWriter:
    """Fails on some topics the way writers do, and counts tokens."""

    name = "flaky"

    def write(self, brief: WritingBrief) -> WriteResult:
        if brief.topic == "latte art":
            raise ContentError("the script was rejected: medical claim: 'cures' (hook)")
        if brief.topic == "milk frothing":
            raise BackendError("the model did not answer with a usable script twice")
        written = WrittenScript(hook=f"All about {brief.topic}.", scenes=[WrittenScene(text="Body.")])
        return WriteResult(written, 3.0, "flaky", "m1", Usage(requests=1, input_tokens=10, output_tokens=5, cost_usd=0.01))


def test_failed_posts_are_recorded_and_the_plan_goes_on():
    outcome = plan(days=2, per_day=5, writer=FlakyWriter())
    assert len(outcome.posts) == 6 and len(outcome.failures) == 4
    assert {f.topic for f in outcome.failures} == {"latte art", "milk frothing"}
    assert "medical claim" in next(f.error for f in outcome.failures if f.topic == "latte art")
    assert outcome.usage.requests == 6 and outcome.usage.cost_usd == pytest.approx(0.06)
    assert outcome.posts[0].writer == "flaky:m1"


def test_plan_file_round_trip_and_hand_written_posts(tmp_path):
    posts = plan(days=1, per_day=2).posts
    path = tmp_path / "plan.json"
    save_plan(posts, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, list) and data[0]["date"] == "2026-12-01" and data[0]["time"] == "11:15"
    assert set(data[0]) >= {"id", "date", "time", "topic", "text", "scenes", "caption", "hashtags", "format"}
    assert load_plan(path) == posts

    path.write_text(json.dumps([{"id": "x1", "date": "2026-12-24", "time": "09:00", "topic": "gifts", "text": "Hi! Wrap early."}]))
    (post,) = load_plan(path)
    assert [scene.text for scene in post.script().scenes] == ["Hi! Wrap early."] and post.format == "tiktok"


@pytest.mark.parametrize("content, message", [
    ("{", "is not a JSON plan"),
    ('{"id": "a"}', "must hold a JSON list"),
    ('[{"id": "a b", "date": "2026-12-01", "time": "09:00", "topic": "t", "text": "x"}]', "post 1: id"),
    ('[{"id": "a", "date": "2026-12-01", "time": "9am", "topic": "t", "text": "x"}]', "post 1: time"),
    ('[{"id": "a", "date": "2026-12-01", "time": "09:00", "topic": "t"}]', "needs text or scenes"),
    ('[{"id": "a", "date": "2026-12-01", "time": "09:00", "topic": "t", "text": "x", "colour": 1}]', "colour"),
    ('[{"id": "a", "date": "2026-12-01", "time": "09:00", "topic": "t", "text": "x"},'
     ' {"id": "a", "date": "2026-12-02", "time": "09:00", "topic": "t", "text": "y"}]', "'a' is used twice"),
])
def test_bad_plans_fail_clearly(tmp_path, content, message):
    path = tmp_path / "plan.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_plan(path)


# --- batch -------------------------------------------------------------------------


def post(post_id: str, topic: str = "t", format: str = "tiktok") -> PlannedPost:
    return PlannedPost(id=post_id, date=START, time="09:00", topic=topic, text=f"About {topic}.", format=format)


def fake_result(out_path: Path, format: str, size: int) -> RenderResult:
    output = OutputProperties(
        width=1080, height=1920, fps=30, frame_count=30, duration_s=1.0, video_codec="h264", video_profile="High",
        pix_fmt="yuv420p", audio_codec="aac", audio_sample_rate_hz=48000, loudness_lufs=-14.0, true_peak_dbtp=-1.5,
        size_bytes=size, faststart=True,
    )
    return RenderResult(
        video_path=out_path, json_path=out_path.with_suffix(".json"), format=format, duration_s=1.0,
        timeline=Timeline(words=[], phonemes=[], duration_s=1.0), stage_seconds={}, output=output,
    )


class FakeRenderer:
    """Writes OUT.json then OUT.mp4 as the pipeline does; fails on topics named "bad"."""

    def __init__(self) -> None:
        self.rendered: list[str] = []

    def render(self, post: PlannedPost, out_path: Path) -> RenderResult:
        self.rendered.append(post.id)
        if post.topic == "bad":
            raise BackendError("the encoder broke", hint="try again")
        if post.topic == "bug":
            raise RuntimeError("unexpected")
        data = b"video:" + post.id.encode()
        result = fake_result(out_path, post.format, len(data))
        out_path.with_suffix(".json").write_text(result.model_dump_json(), encoding="utf-8")
        out_path.write_bytes(data)
        return result


def test_batch_renders_records_failures_and_goes_on(tmp_path):
    posts = [post("p1"), post("p2", "bad"), post("p3", "bug"), post("p4")]
    renderer = FakeRenderer()
    items = run_batch(posts, tmp_path / "out", renderer)
    assert [i.status for i in items] == ["rendered", "failed", "failed", "rendered"]
    assert items[1].error == "the encoder broke (try again)" and items[2].error == "RuntimeError: unexpected"
    assert items[0].video == str(tmp_path / "out" / "p1.mp4") and items[0].duration_s == 1.0
    report = json.loads((tmp_path / "out" / REPORT_NAME).read_text(encoding="utf-8"))
    assert [r["status"] for r in report] == ["rendered", "failed", "failed", "rendered"]


def test_batch_resumes_skipping_complete_outputs(tmp_path):
    posts = [post("p1"), post("p2"), post("p3")]
    out = tmp_path / "out"
    run_batch(posts[:2], out, FakeRenderer())
    video_path(out, posts[1]).write_bytes(b"cut short")  # a damaged video is rendered again

    renderer = FakeRenderer()
    items = run_batch(posts, out, renderer)
    assert [i.status for i in items] == ["skipped", "rendered", "rendered"]
    assert renderer.rendered == ["p2", "p3"]
    assert items[0].duration_s == 1.0

    again = FakeRenderer()
    assert [i.status for i in run_batch(posts, out, again)] == ["skipped"] * 3 and again.rendered == []


def test_completeness_needs_video_json_size_and_format(tmp_path):
    item = post("p1")
    out = video_path(tmp_path, item)
    assert completed(out, item) is None
    FakeRenderer().render(item, out)
    assert completed(out, item) is not None
    assert completed(out, post("p1", format="square")) is None  # the plan now wants another format
    out.with_suffix(".json").write_text("{broken", encoding="utf-8")
    assert completed(out, item) is None
    out.with_suffix(".json").unlink()
    assert completed(out, item) is None
