"""render(job, settings): the numbered steps from a script to a finished video.

1. check the job (text, format, portraits: fail before any slow work)
2. voice    each scene's text -> audio + timeline          (cached)
3. perform  timeline -> per-frame face controls             (cached)
4. animate + compose  frames streamed into the encoder, captions, loudness
5. publish  probe the file, write OUT.json, OUT.srt and OUT.vtt, rename all into place

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
from .media.probe import probe
from .media.wav import WavWriter, read_wav
from .models import Character, RenderResult, RenderSpec, SceneSpan, Script, Timeline, VoiceProfile, VoiceTrack
from .registry import load_backend
from .settings import Settings
from .stages.animate.landmark_warp import ScenePlan
from .stages.compose.formats import get_preset
from .stages.compose.subtitles import write_subtitles
from .stages.perform.performance import Performance
from .stages.voice.align import ForcedAligner
from .stages.voice.narrate import narrate, resample
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
    animator = load_backend("animator", settings.animator_backend)(settings)
    images = [scene.image or job.character.images[0] for scene in job.script.scenes]
    portraits: dict[str, dict] = {}
    with progress.stage("face"):
        for preset in presets:
            portraits[preset.name] = {path: animator.prepare(path, preset.size) for path in dict.fromkeys(images)}
    first = portraits[presets[0].name].values()
    warnings = [w for p in first for w in p.warnings]
    timings["face"] = time.perf_counter() - started

    # 2. voice
    started = time.perf_counter()
    with progress.stage("voice", total=len(job.script.text)):
        voice, spans = _voice(job, settings, cache, images, hits, progress)
    timings["voice"] = time.perf_counter() - started
    warnings += voice.warnings
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

    results = []
    for preset in presets:
        out_path = output_path_for(job.out_path, preset.name, formats)
        plans = [
            ScenePlan(portraits[preset.name][span.image], _frame(span.start_s, fps, frame_count), _frame(span.end_s, fps, frame_count))
            for span in spans
        ]
        plans[-1] = ScenePlan(plans[-1].portrait, plans[-1].start_frame, frame_count)
        spec = job.spec.model_copy(update={"format": preset.name})
        results.append(
            _compose_and_publish(
                job, spec, preset, plans, animator, performance, voice, frame_count, out_path,
                dict(timings), list(hits), warnings, settings, progress,
                stage_name="render" if len(presets) == 1 else f"render {preset.name}",
            )
        )
    return results


def _compose_and_publish(
    job, spec, preset, plans, animator, performance, voice, frame_count, out_path, timings, hits, warnings, settings, progress,
    stage_name: str,
) -> RenderResult:
    # 4. animate + compose
    started = time.perf_counter()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial_video = out_path.with_name(f".{out_path.stem}.partial{out_path.suffix or '.mp4'}")
    partial_json = out_path.with_name(f".{out_path.stem}.partial.json")
    json_path = out_path.with_suffix(".json")
    composer = load_backend("composer", settings.composer_backend)(settings)
    try:
        with progress.stage(stage_name, total=frame_count):
            composer.compose(
                animator.frames(plans, performance), frame_count, voice, job.character.caption_style,
                preset, spec, partial_video, on_frame=progress.advance, character_name=job.character.name,
            )
        timings["render"] = time.perf_counter() - started

        # 5. publish
        started = time.perf_counter()
        output = probe(partial_video)
        partial_subtitles = write_subtitles(voice.timeline.words, job.character.caption_style, partial_video)
        subtitle_paths = [out_path.with_suffix(p.suffix) for p in partial_subtitles]
        timings["publish"] = time.perf_counter() - started
        result = RenderResult(
            video_path=out_path, json_path=json_path, subtitle_paths=subtitle_paths, format=preset.name, duration_s=voice.duration_s,
            timeline=voice.timeline, stage_seconds={k: round(v, 3) for k, v in timings.items()},
            cache_hits=hits, output=output, warnings=warnings,
            voice_engine=voice.engine, billed_characters=voice.billed_characters,
        )
        partial_json.write_text(json.dumps(result.model_dump(mode="json"), indent=2), encoding="utf-8")
        for partial, final in zip(partial_subtitles, subtitle_paths):
            os.replace(partial, final)
        # The video goes last: whoever sees OUT.mp4 can rely on everything beside it.
        os.replace(partial_json, json_path)
        os.replace(partial_video, out_path)
    finally:
        for leftover in (partial_video, partial_json, partial_video.with_suffix(".srt"), partial_video.with_suffix(".vtt")):
            leftover.unlink(missing_ok=True)
    return result


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
    folder = settings.resolved_cache_dir / "joined"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{StageCache.key('join', {'parts': [str(t.audio_path) for t in tracks]})}.wav"
    partial = path.with_suffix(f".{os.getpid()}.partial")
    with WavWriter(partial, rate) as writer:
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
    os.replace(partial, path)
    duration = writer.samples_written / rate
    timeline = Timeline(words=words, phonemes=phonemes, duration_s=duration)
    track = VoiceTrack(
        audio_path=path, sample_rate_hz=rate, duration_s=duration, timeline=timeline, engine=tracks[0].engine,
        billed_characters=sum(t.billed_characters for t in tracks), warnings=warnings,
    )
    return track, spans


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
