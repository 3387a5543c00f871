"""Check a rendered file against what a platform accepts without re-encoding it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import MediaError
from ..models import OutputProperties
from ..stages.compose.formats import FormatPreset
from .probe import probe, video_packets

MAX_FRAME_JITTER_S = 0.001
# AAC is lossy: the decoded waveform rings above the PCM that went into the encoder, so
# a file limited to the ceiling before encoding reads hotter after decoding (a few
# hundredths of a dB at 192 kbps mono, ~1 dB at FFmpeg's default ~64 kbps). The slack
# keeps the check on what we control, the level before encoding.
AAC_PEAK_SLACK_DB = 0.5


def validate(path: Path, preset: FormatPreset) -> list[str]:
    """Human-readable problems with ``path`` for ``preset``; empty when it is fine."""
    path = Path(path)
    try:
        props = probe(path)
        packets = video_packets(path)
    except MediaError as exc:
        return [exc.message]
    return [
        *_video_problems(props, preset),
        *_timing_problems(props, packets, preset),
        *_audio_problems(props, preset),
        *_container_problems(props, packets, preset),
    ]


def _video_problems(props: OutputProperties, preset: FormatPreset) -> list[str]:
    problems = []
    if props.video_codec != "h264":
        problems.append(f"video codec is {props.video_codec}; platforms need h264")
    elif props.video_profile != "High":
        problems.append(f"H.264 profile is {props.video_profile or 'unknown'}; platforms need High")
    if props.pix_fmt != "yuv420p":
        problems.append(f"pix_fmt is {props.pix_fmt or 'unknown'}; platforms need yuv420p")
    if (props.width, props.height) != preset.size:
        problems.append(
            f"frame size is {props.width}x{props.height}; "
            f"the {preset.name} format needs {preset.width}x{preset.height}"
        )
    return problems


def _timing_problems(
    props: OutputProperties, packets: list[tuple[float, int]], preset: FormatPreset
) -> list[str]:
    problems = []
    if not any(abs(props.fps - allowed) < 0.01 for allowed in preset.fps_allowed):
        allowed = ", ".join(str(f) for f in preset.fps_allowed)
        problems.append(f"frame rate is {props.fps:.3f} fps; {preset.name} takes {allowed}")
    if props.fps > 0 and len(packets) > 1:
        deltas = np.diff([time_s for time_s, _ in packets])
        jitter = float(np.max(np.abs(deltas - 1.0 / props.fps)))
        if jitter > MAX_FRAME_JITTER_S:
            problems.append(
                f"frame rate is not constant: frame intervals stray up to {jitter * 1000:.1f} ms "
                f"from {1000 / props.fps:.2f} ms "
                f"(at most {MAX_FRAME_JITTER_S * 1000:.0f} ms allowed)"
            )
    if props.duration_s > preset.max_duration_s:
        problems.append(
            f"duration is {props.duration_s:.1f} s; {preset.name} allows at most "
            f"{preset.max_duration_s:g} s"
        )
    return problems


def _audio_problems(props: OutputProperties, preset: FormatPreset) -> list[str]:
    if props.audio_codec is None:
        return ["no audio stream; platforms need an AAC audio track"]
    problems = []
    if props.audio_codec != "aac":
        problems.append(f"audio codec is {props.audio_codec}; platforms need aac")
    if props.audio_sample_rate_hz not in preset.audio_rates_hz:
        rates = ", ".join(str(r) for r in preset.audio_rates_hz)
        problems.append(
            f"audio sample rate is {props.audio_sample_rate_hz} Hz; {preset.name} takes {rates}"
        )
    lufs, peak = props.loudness_lufs, props.true_peak_dbtp
    if lufs is not None and abs(lufs - preset.target_lufs) > preset.loudness_tolerance_lu:
        problems.append(
            f"integrated loudness is {lufs:.1f} LUFS; {preset.name} needs "
            f"{preset.target_lufs:.1f} +/- {preset.loudness_tolerance_lu:.1f} LUFS"
        )
    if peak is not None and peak > preset.max_true_peak_dbtp + AAC_PEAK_SLACK_DB:
        problems.append(
            f"true peak is {peak:.1f} dBTP; {preset.name} allows "
            f"{preset.max_true_peak_dbtp:.1f} dBTP (+{AAC_PEAK_SLACK_DB} dB for AAC decoding)"
        )
    return problems


def _container_problems(
    props: OutputProperties, packets: list[tuple[float, int]], preset: FormatPreset
) -> list[str]:
    problems = []
    if not props.faststart:
        problems.append(
            "moov atom is not before mdat (no faststart); playback cannot start until the "
            "whole file is downloaded: mux with movflags=+faststart"
        )
    seconds = len(packets) / props.fps if props.fps > 0 else props.duration_s
    if seconds > 0:
        kbps = sum(size for _, size in packets) * 8 / 1000 / seconds
        if kbps > preset.max_video_kbps:
            problems.append(
                f"average video bitrate is {kbps:.0f} kbps; {preset.name} allows at most "
                f"{preset.max_video_kbps} kbps"
            )
    return problems
