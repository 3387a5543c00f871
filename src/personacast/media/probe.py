"""Read back what a rendered file really is, with PyAV (no ffmpeg binary needed)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from ..errors import MediaError
from ..models import OutputProperties
from . import loudness


def probe(path: Path) -> OutputProperties:
    """Stream properties, packet counts and measured loudness of a media file."""
    path = Path(path)
    boxes = _mp4_layout(path)
    with _open(path) as container:
        if not container.streams.video:
            raise MediaError(f"{path} has no video stream")
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frame_count, samples = _scan(path, container, video, audio)
        duration_s = _duration_s(container)
        lufs = peak = None
        if audio is not None:
            lufs, peak = loudness.measure(samples, audio.codec_context.sample_rate)
        return OutputProperties(
            width=video.codec_context.width,
            height=video.codec_context.height,
            fps=_fps(video, frame_count, duration_s),
            frame_count=frame_count,
            duration_s=duration_s,
            video_codec=video.codec_context.name,
            video_profile=video.codec_context.profile or None,
            pix_fmt=video.codec_context.pix_fmt or "",
            audio_codec=audio.codec_context.name if audio is not None else None,
            audio_sample_rate_hz=audio.codec_context.sample_rate if audio is not None else None,
            loudness_lufs=lufs,
            true_peak_dbtp=peak,
            size_bytes=path.stat().st_size,
            faststart=_moov_before_mdat(boxes),
        )


def frame_times(path: Path) -> list[float]:
    """Presentation times (s) of the video packets, sorted: the frame grid as muxed."""
    return [time_s for time_s, _ in video_packets(path)]


def video_packets(path: Path) -> list[tuple[float, int]]:
    """(presentation time in s, size in bytes) of each video packet, sorted by time."""
    path = Path(path)
    _mp4_layout(path)
    with _open(path) as container:
        if not container.streams.video:
            raise MediaError(f"{path} has no video stream")
        video = container.streams.video[0]
        try:
            packets = [
                (float(packet.pts * video.time_base), packet.size)
                for packet in container.demux(video)
                if packet.size and packet.pts is not None
            ]
        except av.FFmpegError as exc:
            raise MediaError(f"{path} is corrupt: {_reason(exc)}") from None
    return sorted(packets)


def _open(path: Path):
    if not path.is_file():
        raise MediaError(f"media file not found: {path}")
    try:
        return av.open(str(path))
    except av.FFmpegError as exc:
        raise MediaError(f"{path} is not readable media: {_reason(exc)}") from None


def _scan(path: Path, container, video, audio) -> tuple[int, np.ndarray]:
    """One demux pass: count video packets (no decoding) and decode the audio."""
    streams = [video] + ([audio] if audio is not None else [])
    frame_count, chunks = 0, []
    resampler = av.AudioResampler(format="fltp") if audio is not None else None
    try:
        for packet in container.demux(*streams):
            if packet.stream.type == "video":
                if packet.size:
                    frame_count += 1
            else:
                # A size-0 packet is the demuxer's flush marker; decoding it drains.
                for frame in packet.decode():
                    chunks.extend(f.to_ndarray() for f in resampler.resample(frame))
        if resampler is not None:
            chunks.extend(f.to_ndarray() for f in resampler.resample(None))
    except av.FFmpegError as exc:
        raise MediaError(f"{path} is corrupt: {_reason(exc)}") from None
    if frame_count == 0:
        raise MediaError(f"{path} has a video stream with no frames")
    samples = np.concatenate(chunks, axis=1).T if chunks else np.zeros((0, 1), np.float32)
    return frame_count, samples


def _duration_s(container) -> float:
    durations = [
        float(stream.duration * stream.time_base)
        for stream in container.streams
        if stream.duration is not None and stream.time_base is not None
    ]
    if container.duration is not None:
        durations.append(container.duration / av.time_base)
    return max(durations, default=0.0)


def _fps(video, frame_count: int, duration_s: float) -> float:
    rate = video.average_rate or video.guessed_rate
    if rate:
        return float(rate)
    return frame_count / duration_s if duration_s > 0 else 0.0


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


# --- MP4 top-level boxes -------------------------------------------------------------


def _mp4_layout(path: Path) -> list[str]:
    """Top-level box types in file order; [] when the file is not ISO-BMFF.

    A box that claims to run past the end of the file means the file was cut short;
    FFmpeg would happily read the part that is there, so this is where it is caught.
    """
    try:
        return list(_boxes(path))
    except FileNotFoundError:
        raise MediaError(f"media file not found: {path}") from None
    except OSError as exc:
        raise MediaError(f"cannot read {path}: {exc.strerror or exc}") from None


def _boxes(path: Path) -> Iterator[str]:
    size_total = path.stat().st_size
    with path.open("rb") as fh:
        offset = 0
        while offset < size_total:
            fh.seek(offset)
            head = fh.read(16)
            if len(head) < 8:
                raise MediaError(f"{path} is truncated: {len(head)} stray bytes at the end")
            size, kind = struct.unpack(">I4s", head[:8])
            if size == 1:
                if len(head) < 16:
                    raise MediaError(f"{path} is truncated inside a box header")
                (size,) = struct.unpack(">Q", head[8:])
            elif size == 0:
                size = size_total - offset
            name = kind.decode("latin-1")
            if offset == 0 and name != "ftyp":
                return  # not ISO-BMFF; the demuxer judges such files on its own
            if size < 8:
                raise MediaError(f"{path} is corrupt: bad MP4 box size at byte {offset}")
            if offset + size > size_total:
                raise MediaError(
                    f"{path} is truncated: its '{name}' box needs {offset + size} bytes, "
                    f"the file has {size_total}"
                )
            yield name
            offset += size


def _moov_before_mdat(boxes: list[str]) -> bool:
    if "moov" not in boxes or "mdat" not in boxes:
        return False
    return boxes.index("moov") < boxes.index("mdat")

