"""The standard composer: captions burned in, voice (+ ducked music) at -14 LUFS, H.264/AAC faststart MP4."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ...media import loudness
from ...media.audio import resample
from ...media.canvas import FramePatch, I420Canvas
from ...media.encode import AUDIO_RATE_HZ, AacTrack, EncoderSettings, Mp4Writer, encode_aac, produce_in_thread, single_threaded_math
from ...media.wav import read_wav
from ...models import Logo, MusicReport, MusicSpec, RenderSpec, VoiceTrack
from ...settings import Settings
from .captions import CaptionRenderer, CaptionStyles
from .disclosure import disclosure_overlay, provenance_metadata
from .logo import logo_overlay
from .formats import FormatPreset
from .music import music_track

# Leave room below the platforms' -1 dBTP ceiling for AAC's small overshoot.
TRUE_PEAK_CEILING_DBTP = -2.0
# The decoded AAC is checked and the limiter tightened until it stays this far under
# the preset's true-peak limit.
AAC_PEAK_MARGIN_DB = 0.2
AAC_PEAK_RETRIES = 4
# Frames encoded at most before the audio must be ready: well inside the muxer's
# 10 s interleaving window, so the file stays interleaved from its start.
MAX_AUDIO_LAG_FRAMES = 120


class PreparedAudio(NamedTuple):
    samples: np.ndarray  # float32, 48 kHz mono, normalised
    aac: AacTrack  # the samples encoded, as checked and as muxed
    music: MusicReport | None  # what was measured on the music, if any


def prepare_audio(voice: VoiceTrack, preset: FormatPreset, music: MusicSpec | None = None, seed: int = 0) -> PreparedAudio:
    """The voice at 48 kHz, with the music mixed under it, normalised as a whole to the
    preset's loudness and peak limits, and encoded; the true peak is checked on the
    decoded AAC, which is what players get."""
    samples, rate = read_wav(voice.audio_path)
    samples = resample(samples, rate, AUDIO_RATE_HZ)
    report = None
    mix = samples
    if music is not None:
        track, report = music_track(music, samples, voice.timeline.words, seed)
        mix = samples + track
    ceiling = TRUE_PEAK_CEILING_DBTP
    for _ in range(AAC_PEAK_RETRIES):
        normalised = loudness.normalize(mix, AUDIO_RATE_HZ, target_lufs=preset.target_lufs, max_true_peak_dbtp=ceiling)
        encoded = encode_aac(normalised)
        delivered_peak = loudness.true_peak_dbtp(encoded.decoded())
        excess = delivered_peak - (preset.max_true_peak_dbtp - AAC_PEAK_MARGIN_DB)
        if excess <= 0:
            break
        ceiling -= excess + 0.2
    return PreparedAudio(normalised, encoded, report)


class StandardComposer:
    name = "standard"

    def __init__(self, settings: Settings) -> None:
        self._threads = settings.encoder_threads

    def compose(
        self,
        frames: Iterator[FramePatch],
        frame_count: int,
        voice: VoiceTrack,
        captions: CaptionStyles,
        preset: FormatPreset,
        spec: RenderSpec,
        out_path: Path,
        on_frame: Callable[[int], None] | None = None,
        character_name: str = "unnamed",
        music: MusicSpec | None = None,
        logo: Logo | None = None,
    ) -> MusicReport | None:
        # The audio is prepared beside the first frames (nothing in the picture waits
        # for it); the muxer holds their packets until the audio catches up.
        audio_job = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audio-prep")
        prepared = audio_job.submit(prepare_audio, voice, preset, music, spec.seed or 0)
        audio_job.shutdown(wait=False)
        renderer = CaptionRenderer(voice.timeline.words, captions, preset)
        fps = spec.fps
        canvas = I420Canvas(preset.size)
        label = disclosure_overlay(spec.ai_label, preset) if spec.ai_label else None
        watermark = logo_overlay(logo, preset, avoid=label) if logo else None
        writer = Mp4Writer(
            out_path, preset.size, fps, EncoderSettings.for_quality(spec.quality), self._threads,
            metadata=provenance_metadata(spec.ai_label, character_name),
        )

        def finish_frame(index: int, frame: FramePatch):
            return writer.video_frame(canvas.render(frame, [renderer.overlay_at(index / fps), label, watermark]), canvas)

        samples_per_frame = AUDIO_RATE_HZ / fps
        audio: PreparedAudio | None = None
        try:
            with single_threaded_math():
                for index, video_frame in enumerate(produce_in_thread(frames, finish_frame)):
                    if index >= frame_count:
                        break
                    writer.write_video(video_frame)
                    if audio is None and (prepared.done() or index >= MAX_AUDIO_LAG_FRAMES):
                        audio = prepared.result()
                    if audio is not None:
                        # Keep audio and video interleaved so the muxer buffers little.
                        writer.write_aac(audio.aac, until_sample=int(round((index + 1) * samples_per_frame)))
                    if on_frame:
                        on_frame(index + 1)
                if audio is None:
                    audio = prepared.result()
                writer.write_aac(audio.aac)
                writer.close()
        except BaseException:
            writer.abort()
            raise
        return audio.music
