"""render(job, settings): the numbered steps from a script to a finished video.

1. check the job (text, music file, format, portraits: fail before any slow work)
2. voice    each scene's text -> audio + timeline          (cached)
3. perform  timeline -> per-frame face controls             (cached)
4. animate + compose  frames streamed into the encoder, captions, loudness
5. publish  sign the file (C2PA, when configured), probe it, write OUT.json, OUT.srt,
            OUT.vtt, the cover OUT.jpg and the post text OUT.txt, rename all into place

Nothing is written at the output path until the video is complete: work goes to a
hidden temporary name that is renamed at the end, and removed on any failure.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .cache import StageCache
from .errors import TextError
from .media.audio import resample
from .media.image import load_rgb
from .media.probe import probe
from .media.wav import WavWriter, read_wav
from .models import AudioReport, CaptionStyle, Character, RenderResult, RenderSpec, SceneSpan, Script, Timeline, VoiceProfile, VoiceTrack
from .registry import load_backend
from .settings import Settings
from .stages.animate.framing import PUNCH_IN_ZOOM
from .stages.animate.landmark_warp import ScenePlan
from .stages.compose.captions import caption_warnings
from .stages.compose.c2pa_manifest import SigningCredentials, load_credentials, sign_video
from .stages.compose.cover import choose_cover_frame, write_cover
from .stages.compose.formats import get_preset
from .stages.compose.logo import logo_overlay
from .stages.compose.music import check_music, chosen_music
from .stages.compose.post_text import headline, post_text
from .stages.compose.scenes import TRANSITION_S, EditPlan, check_broll, edit_frames, plan_edit
from .stages.compose.subtitles import write_subtitles
from .stages.perform.performance import Performance
from .stages.voice.align import ForcedAligner
from .stages.voice.narrate import narrate
from .stages.voice.timeline import written_words

SCENE_GAP_S = 0.25


@dataclass(frozen=True)
class RenderJob:
    character: Character
    script: Script
    spec: RenderSpec
    out_path: Path


class Progress:
    """Receives progress; the CLI draws it, the service records it. Default: silent."""

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[None]:
        yield

    def advance(self, completed: int) -> None:
        pass


def check_text(script: Script, settings: Settings) -> None:
    text = script.text.strip()
    if not written_words(text):
        raise TextError("the script is empty", hint="give the text to speak with --text or in the script file")
    if len(text) > settings.max_script_chars:
        raise TextError(
            f"the script has {len(text)} characters; the limit is {settings.max_script_chars}",
            hint="split it into several videos or raise PERSONACAST_MAX_SCRIPT_CHARS",
        )
    for index, scene in enumerate(script.scenes):
        if not written_words(scene.text):
            raise TextError(f"scene {index + 1} has no words", hint="remove it or give it text")


def render(job: RenderJob, settings: Settings, progress: Progress | None = None) -> RenderResult:
    """Render ``job`` in its one format to ``job.out_path``."""
    return render_formats(job, [job.spec.format], settings, progress)[0]


def output_path_for(out_path: Path, format_name: str, formats: list[str]) -> Path:
    """OUT.mp4 for one format; OUT-tiktok.mp4, OUT-square.mp4, ... for several."""
    if len(formats) == 1:
        return out_path
    return out_path.with_name(f"{out_path.stem}-{format_name}{out_path.suffix or '.mp4'}")


def render_formats(
    job: RenderJob, formats: list[str], settings: Settings, progress: Progress | None = None
) -> list[RenderResult]:
    """Render the job in several formats, speaking and performing it only once.

    Every format is checked (preset, portraits, duration limit) before the first video
    is encoded, so a bad format fails in seconds rather than after the others.
    """
    progress = progress or Progress()
    timings: dict[str, float] = {}
    hits: list[str] = []
    cache = StageCache(settings.resolved_cache_dir, enabled=settings.use_cache)
    formats = list(dict.fromkeys(formats))
    presets = [get_preset(name) for name in formats]
    fps = job.spec.fps
    seed = job.spec.seed if job.spec.seed is not None else job.character.seed

    # 1. check
    started = time.perf_counter()
    check_text(job.script, settings)
    music = chosen_music(job.character, job.script)
    if music is not None:
        check_music(music)
    credentials = load_credentials(settings)
    animator = load_backend("animator", settings.animator_backend)(settings)
    images = [scene.image or job.character.images[0] for scene in job.script.scenes]
    views = [_view(scene, image) for scene, image in zip(job.script.scenes, images)]
    _check_pictures(job.script)
    if job.character.logo is not None:
        logo_overlay(job.character.logo, presets[0])  # an unreadable logo fails now, not after the voice
    portraits: dict[str, dict] = {}
    with progress.stage("face"):
        for preset in presets:
            portraits[preset.name] = {view: animator.prepare(view[0], preset.size, *view[1:]) for view in dict.fromkeys(views)}
    first = portraits[presets[0].name].values()
    warnings = list(dict.fromkeys(w for p in first for w in p.warnings))  # one note per render, not per portrait
    timings["face"] = time.perf_counter() - started

    # 2. voice
    started = time.perf_counter()
    with progress.stage("voice", total=len(job.script.text)):
        voice, spans = _voice(job, settings, cache, images, hits, progress)
        voice, spans = _with_cards(voice, spans, job.script, settings)
    timings["voice"] = time.perf_counter() - started
    if hasattr(animator, "use_voice"):
        animator.use_voice(voice)  # a lip-sync model follows the speech itself, not only its timeline
    warnings += voice.warnings
    captions = _caption_styles(job, spans)
    warnings += caption_warnings(voice.timeline.words, captions)
    frame_count = max(1, math.ceil(voice.duration_s * fps - 1e-6))
    for preset in presets:
        if voice.duration_s > preset.max_duration_s:
            raise TextError(
                f"the speech lasts {voice.duration_s:.0f} s; {preset.name} allows {preset.max_duration_s:.0f} s",
                hint="shorten the script or choose another format",
            )

    # 3. perform
    started = time.perf_counter()
    with progress.stage("performance"):
        performance = _performance(voice.timeline, fps, frame_count, seed, job.character.motion_intensity, settings, cache, hits)
    timings["performance"] = time.perf_counter() - started

    edit = plan_edit(job.script, spans, fps, frame_count)
    results = []
    for preset in presets:
        out_path = output_path_for(job.out_path, preset.name, formats)
        plans = [
            ScenePlan(portraits[preset.name][view], _frame(span.start_s, fps, frame_count), _frame(span.end_s, fps, frame_count))
            for view, span in zip(views, spans)
        ]
        plans[-1] = ScenePlan(plans[-1].portrait, plans[-1].start_frame, frame_count - edit.outro_frames)
        spec = job.spec.model_copy(update={"format": preset.name})
        results.append(
            _compose_and_publish(
                job, spec, preset, plans, animator, performance, voice, frame_count, out_path,
                dict(timings), list(hits), warnings, settings, progress,
                stage_name="render" if len(presets) == 1 else f"render {preset.name}", credentials=credentials, captions=captions,
                edit=edit,
            )
        )
    return results


def _compose_and_publish(
    job, spec, preset, plans, animator, performance, voice, frame_count, out_path, timings, hits, warnings, settings, progress,
    stage_name: str, credentials: SigningCredentials | None, captions: list[tuple[float, CaptionStyle]], edit: EditPlan,
) -> RenderResult:
    # 4. animate + compose
    started = time.perf_counter()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial_video = out_path.with_name(f".{out_path.stem}.partial{out_path.suffix or '.mp4'}")
    partial_json = out_path.with_name(f".{out_path.stem}.partial.json")
    partial_cover = out_path.with_name(f".{out_path.stem}.partial.jpg")
    partial_post = out_path.with_name(f".{out_path.stem}.partial.txt")
    json_path, cover_path, post_path = (out_path.with_suffix(suffix) for suffix in (".json", ".jpg", ".txt"))
    composer = load_backend("composer", settings.composer_backend)(settings)
    try:
        with progress.stage(stage_name, total=frame_count):
            title_style = job.character.caption_style.overridden_by(job.script.caption_style)
            frames = edit_frames(animator.frames(plans, performance), edit, preset, spec.fps, title_style, plans[0].portrait.still)
            music_report = composer.compose(
                frames, frame_count, voice, captions,
                preset, spec, partial_video, on_frame=progress.advance, character_name=job.character.name,
                music=chosen_music(job.character, job.script), logo=job.character.logo,
            )
        timings["render"] = time.perf_counter() - started

        # 5. publish
        started = time.perf_counter()
        if credentials is not None:
            sign_video(partial_video, credentials, out_path.name, job.character.name, voice.engine)
        output = probe(partial_video)
        video_style = job.character.caption_style.overridden_by(job.script.caption_style)
        partial_subtitles = write_subtitles(voice.timeline.words, video_style, partial_video)
        subtitle_paths = [out_path.with_suffix(p.suffix) for p in partial_subtitles]
        partial_post.write_text(post_text(job.script, job.character, preset, disclose=bool(spec.ai_label)), encoding="utf-8")
        cover_time_s, cover_warnings = _cover(job, spec, preset, performance, voice, captions, edit, partial_video, partial_cover)
        timings["publish"] = time.perf_counter() - started
        result = RenderResult(
            video_path=out_path, json_path=json_path, subtitle_paths=subtitle_paths, format=preset.name, duration_s=voice.duration_s,
            timeline=voice.timeline, stage_seconds={k: round(v, 3) for k, v in timings.items()},
            cache_hits=hits, output=output, warnings=warnings + cover_warnings,
            voice_engine=voice.engine, billed_characters=voice.billed_characters,
            cover_path=cover_path if cover_time_s is not None else None, cover_time_s=cover_time_s,
            post_text_path=post_path, content_credentials=credentials is not None,
            audio=AudioReport(loudness_lufs=output.loudness_lufs, true_peak_dbtp=output.true_peak_dbtp, music=music_report),
        )
        partial_json.write_text(json.dumps(result.model_dump(mode="json"), indent=2), encoding="utf-8")
        for partial, final in zip(partial_subtitles, subtitle_paths):
            os.replace(partial, final)
        os.replace(partial_post, post_path)
        if cover_time_s is not None:
            os.replace(partial_cover, cover_path)
        else:
            cover_path.unlink(missing_ok=True)  # an earlier render's cover would show another video
        # The video goes last: whoever sees OUT.mp4 can rely on everything beside it.
        os.replace(partial_json, json_path)
        os.replace(partial_video, out_path)
    finally:
        for leftover in (
            partial_video, partial_json, partial_cover, partial_post, partial_video.with_suffix(".srt"), partial_video.with_suffix(".vtt")
        ):
            leftover.unlink(missing_ok=True)
    return result


def _cover(job, spec, preset, performance, voice, captions, edit: EditPlan, video: Path, cover: Path) -> tuple[float | None, list[str]]:
    """Write the cover from the rendered ``video``: the chosen frame's time, or None and why not."""
    transition = round(TRANSITION_S * spec.fps)
    hidden = [(0, edit.intro_frames), (edit.frame_count - edit.outro_frames, edit.frame_count)]
    hidden += [(w.start_frame, w.end_frame) for w in edit.broll]
    hidden += [(start, start + transition) for start, kind in edit.transitions if kind != "cut"]
    frame = choose_cover_frame(performance, voice.timeline.words, hidden)
    style = next((style for start_s, style in reversed(captions) if start_s <= frame / spec.fps), captions[0][1])
    try:
        write_cover(video, cover, frame, spec.fps, headline(job.script), preset, style)
    except Exception as exc:  # the cover is an extra: no failure in it may cost the finished video
        return None, [f"no cover image was made: {exc}"]
    return frame / spec.fps, []


def _caption_styles(job: RenderJob, spans: list[SceneSpan]) -> list[tuple[float, CaptionStyle]]:
    """Each scene's start and caption style: the character's, with the fields that the
    script and then the scene set."""
    video = job.character.caption_style.overridden_by(job.script.caption_style)
    return [(span.start_s, video.overridden_by(scene.caption_style)) for scene, span in zip(job.script.scenes, spans)]


def _frame(t: float, fps: int, frame_count: int) -> int:
    return min(frame_count, max(0, int(round(t * fps))))


def _voice(job, settings, cache, images, hits, progress) -> tuple[VoiceTrack, list[SceneSpan]]:
    """Each scene is voiced (and cached) on its own, then joined with a short gap. A
    scene with its own recording uses it instead of the character's voice."""
    aligner = ForcedAligner()
    tracks: list[VoiceTrack] = []
    done_chars = 0
    for index, scene in enumerate(job.script.scenes):
        profile = job.character.voice
        if scene.audio is not None:
            profile = VoiceProfile(name="recorded", engine="recorded", voice=str(scene.audio))
        engine = load_backend("voice", profile.engine)(settings)
        inputs = {"engine": engine.name, "id": engine.cache_identity(profile), "text": scene.text, "profile": profile.model_dump(), "version": 2}

        def build(folder: Path, text=scene.text, engine=engine, profile=profile, before=done_chars) -> None:
            track = narrate(engine, text, profile, folder / "voice.wav", aligner, lambda n: progress.advance(before + n))
            (folder / "track.json").write_text(track.model_copy(update={"audio_path": Path("voice.wav")}).model_dump_json())

        folder, cached = cache.entry("voice", inputs, build)
        if cached:
            hits.append(f"voice[{index}]")
        track = VoiceTrack.model_validate_json((folder / "track.json").read_text())
        tracks.append(track.model_copy(update={"audio_path": folder / "voice.wav"}))
        done_chars += len(scene.text)
        progress.advance(done_chars)
    if len(tracks) == 1:
        track = tracks[0]
        return track, [SceneSpan(image=images[0], start_s=0.0, end_s=track.duration_s)]
    return _join(tracks, images, settings)


def _join(tracks: list[VoiceTrack], images: list[Path], settings: Settings) -> tuple[VoiceTrack, list[SceneSpan]]:
    """One WAV for all scenes (at the first scene's rate), written scene by scene."""
    words, phonemes, spans, warnings = [], [], [], []
    rate = tracks[0].sample_rate_hz
    with _joined_wav(settings, "join", {"parts": [str(t.audio_path) for t in tracks]}, rate) as (path, writer):
        for index, (track, image) in enumerate(zip(tracks, images)):
            if index:
                writer.write_silence(SCENE_GAP_S)
            offset = writer.samples_written / rate
            samples, scene_rate = read_wav(track.audio_path)
            writer.write(resample(samples, scene_rate, rate))
            shifted = track.timeline.shifted(offset)
            words += shifted.words
            phonemes += shifted.phonemes
            warnings += track.warnings
            gap = SCENE_GAP_S if index < len(tracks) - 1 else 0.0
            spans.append(SceneSpan(image=image, start_s=offset, end_s=writer.samples_written / rate + gap))
    duration = writer.samples_written / rate
    timeline = Timeline(words=words, phonemes=phonemes, duration_s=duration)
    track = VoiceTrack(
        audio_path=path, sample_rate_hz=rate, duration_s=duration, timeline=timeline, engine=tracks[0].engine,
        billed_characters=sum(t.billed_characters for t in tracks), warnings=warnings,
    )
    return track, spans


@contextlib.contextmanager
def _joined_wav(settings: Settings, kind: str, inputs: dict, rate_hz: int) -> Iterator[tuple[Path, WavWriter]]:
    """A WAV in the cache named by what it is made of, written under a temporary name
    and renamed into place only when complete (renders may share the cache)."""
    folder = settings.resolved_cache_dir / "joined"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{StageCache.key(kind, inputs)}.wav"
    partial = path.with_suffix(f".{os.getpid()}.partial")
    with WavWriter(partial, rate_hz) as writer:
        yield path, writer
    os.replace(partial, path)


def _view(scene, image: Path) -> tuple[Path, float, str]:
    """How a scene shows its portrait: image, zoom, background fill."""
    return image, PUNCH_IN_ZOOM if scene.framing == "punch_in" else 1.0, scene.background


def _check_pictures(script: Script) -> None:
    """B-roll and picture backgrounds are read before any slow work starts."""
    for scene in script.scenes:
        for broll in scene.broll:
            check_broll(broll)
        if not scene.background.startswith("#") and scene.background != "blur":
            load_rgb(Path(scene.background))
    for card in (script.intro, script.outro):
        if card is not None and not card.background.startswith("#") and card.background != "portrait":
            load_rgb(Path(card.background))


def _with_cards(voice: VoiceTrack, spans: list[SceneSpan], script: Script, settings: Settings):
    """Silence for the intro and outro cards around the speech; times move with it."""
    before = script.intro.duration_s if script.intro else 0.0
    after = script.outro.duration_s if script.outro else 0.0
    if not before and not after:
        return voice, spans
    samples, rate = read_wav(voice.audio_path)
    with _joined_wav(settings, "cards", {"voice": str(voice.audio_path), "before": before, "after": after}, rate) as (path, writer):
        writer.write_silence(before)
        writer.write(samples)
        writer.write_silence(after)
    duration = writer.samples_written / rate
    timeline = voice.timeline.shifted(before).model_copy(update={"duration_s": duration})
    shifted = [span.model_copy(update={"start_s": span.start_s + before, "end_s": span.end_s + before}) for span in spans]
    track = voice.model_copy(update={"audio_path": path, "duration_s": duration, "timeline": timeline})
    return track, shifted


def _performance(timeline, fps, frame_count, seed, intensity, settings, cache, hits) -> Performance:
    performer = load_backend("performer", settings.performer_backend)(settings)
    inputs = {"backend": settings.performer_backend, "timeline": timeline.model_dump(), "fps": fps,
              "frames": frame_count, "seed": seed, "intensity": intensity, "version": 1}

    def build(folder: Path) -> None:
        performer.perform(timeline, fps, frame_count, seed, intensity).save(folder / "performance.npz")

    folder, cached = cache.entry("performance", inputs, build)
    if cached:
        hits.append("performance")
    return Performance.load(folder / "performance.npz")
