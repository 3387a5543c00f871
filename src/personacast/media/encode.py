"""H.264 + AAC MP4 writing with PyAV, frames streamed (never the whole video in memory)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import MediaError
from .canvas import i420_planes

AUDIO_RATE_HZ = 48_000
AUDIO_BITRATE = 128_000
# FFmpeg's default "twoloop" AAC coder scaled loud speech onsets up by as much as 1.5x
# (true peak +2 dBTP from a -2 dBTP input, measured on Piper voices at 96-128 kb/s);
# the "fast" coder stayed within 0.1 dB.
AAC_OPTIONS = {"aac_coder": "fast"}


@dataclass(frozen=True)
class EncoderSettings:
    preset: str
    crf: int

    @classmethod
    def for_quality(cls, quality: str) -> "EncoderSettings":
        # superfast still uses CABAC and 8x8 transforms, so the stream stays High profile;
        # ultrafast would drop to Constrained Baseline.
        return cls("veryfast", 23) if quality == "final" else cls("superfast", 27)


class ChangeLog(Protocol):
    """A buffer that knows which rectangles its renders rewrote (see I420Canvas)."""

    version: int

    def changed_since(self, version: int) -> list[tuple[int, int, int, int]] | None: ...


class Mp4Writer:
    """Writes yuv420p frames and float audio into one faststart MP4."""

    def __init__(
        self, path: Path, size: tuple[int, int], fps: int, settings: EncoderSettings, threads: int = 0,
        metadata: dict[str, str] | None = None,
    ) -> None:
        import av

        self.path = path
        self.fps = fps
        try:
            self._container = av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"})
        except (OSError, av.FFmpegError) as exc:
            raise MediaError(f"cannot create {path}: {exc}") from None
        self._container.metadata.update(metadata or {"encoder": "personacast"})
        video = self._container.add_stream("libx264", rate=fps)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        video.options = {"preset": settings.preset, "crf": str(settings.crf), "profile": "high"}
        video.thread_type = "FRAME"
        if threads:
            video.thread_count = threads
        self._video = video
        self._width, self._height = size
        self._free_frames: queue.SimpleQueue = queue.SimpleQueue()
        # id of a recycled frame -> the canvas and the render of it the frame holds
        self._frame_versions: dict[int, tuple[ChangeLog, int]] = {}
        audio = self._container.add_stream("aac", rate=AUDIO_RATE_HZ)
        _configure_aac(audio)
        self._audio = audio
        self._audio_pts = 0
        self._aac_muxed = 0  # packets of an AacTrack muxed so far
        self._frames = 0

    def video_frame(self, yuv_i420: np.ndarray, changes: ChangeLog | None = None):
        """A copy of an I420 buffer as an encoder frame; safe to call from another thread.

        Frames are recycled: x264 copies each picture when it is submitted. Allocating a
        fresh 3 MB frame per picture took ~2.5 ms a frame under load (sampled while
        rendering on 2 cores), copying into a reused one well under 0.5 ms. When the
        buffer is a canvas's (``changes``), a recycled frame that last held one of its
        renders gets only the rectangles rewritten since.
        """
        import av

        try:
            frame = self._free_frames.get_nowait()
        except queue.Empty:
            frame = av.VideoFrame(self._width, self._height, "yuv420p")
        log, held = self._frame_versions.pop(id(frame), (None, 0))
        rects = changes.changed_since(held) if changes is not None and log is changes else None
        height, width = self._height, self._width
        source = i420_planes(yuv_i420, width, height)
        for plane, source_plane, scale in zip(frame.planes, source, (1, 2, 2)):
            rows, cols = source_plane.shape
            target = np.frombuffer(plane, np.uint8).reshape(rows, plane.line_size)[:, :cols]
            if rects is None:
                target[:] = source_plane
            for x0, y0, x1, y1 in rects or ():
                view = np.s_[y0 // scale : y1 // scale, x0 // scale : x1 // scale]
                target[view] = source_plane[view]
        if changes is not None:
            self._frame_versions[id(frame)] = (changes, changes.version)
        return frame

    def write_video(self, frame) -> None:
        """Writes one frame: an I420 array or a frame from ``video_frame``."""
        if isinstance(frame, np.ndarray):
            frame = self.video_frame(frame)
        frame.pts = self._frames
        self._frames += 1
        self._container.mux(self._video.encode(frame))
        self._free_frames.put(frame)

    def write_audio(self, samples: np.ndarray) -> None:
        """Mono float32 samples at 48 kHz, encoded here."""
        if samples.size == 0:
            return
        frame = _audio_frame(samples, self._audio_pts)
        self._audio_pts += samples.size
        self._container.mux(self._audio.encode(frame))

    def write_aac(self, track: AacTrack, until_sample: int | None = None) -> None:
        """The packets of ``track`` that start before ``until_sample`` (all when None)
        and are not muxed yet. A file takes its audio either this way or through
        ``write_audio``, not both."""
        packets = track.packets
        while self._aac_muxed < len(packets) and (until_sample is None or packets[self._aac_muxed].pts < until_sample):
            packet = packets[self._aac_muxed]
            packet.stream = self._audio
            self._container.mux(packet)
            self._aac_muxed += 1

    @property
    def frames_written(self) -> int:
        return self._frames

    def close(self) -> None:
        self._container.mux(self._video.encode(None))
        self._container.mux(self._audio.encode(None))
        self._container.close()

    def abort(self) -> None:
        try:
            self._container.close()
        except Exception:  # the file is deleted by the caller anyway
            pass


@dataclass(frozen=True)
class AacTrack:
    """Mono 48 kHz audio encoded once, exactly as the writer would encode it.

    The render checks the decoded result's true peak and then muxes these very
    packets, so the delivered audio is the audio that was checked and nothing is
    encoded twice. A writer muxes the packets once (muxing rebases them in place).
    """

    packets: tuple  # av.Packet, timestamps in samples; the first ones carry the encoder's priming
    extradata: bytes
    sample_count: int

    def decoded(self) -> np.ndarray:
        """What a player hears: float32 samples aligned with the input. AAC can ring
        above the peaks it was given, so this is where the delivered true peak is read."""
        import av

        decoder = av.CodecContext.create("aac", "r")
        decoder.extradata = self.extradata
        frames = [frame for packet in self.packets for frame in decoder.decode(packet)] + list(decoder.decode(None))
        if not frames:
            return np.zeros(0, np.float32)
        # The encoder starts its first packet this many samples early (its priming);
        # the MP4 edit list hides them from a player, so they are dropped here too.
        priming = max(0, -int(self.packets[0].pts))
        samples = np.concatenate([frame.to_ndarray()[0] for frame in frames])
        return samples[priming : priming + self.sample_count]


def encode_aac(samples: np.ndarray, chunk: int = 1600) -> AacTrack:
    """Mono float 48 kHz audio encoded as ``Mp4Writer`` encodes it."""
    import av

    encoder = av.CodecContext.create("aac", "w")
    encoder.sample_rate = AUDIO_RATE_HZ
    encoder.format = "fltp"
    encoder.time_base = Fraction(1, AUDIO_RATE_HZ)
    _configure_aac(encoder)
    encoder.open()
    samples = np.asarray(samples, dtype=np.float32)
    packets = []
    for start in range(0, samples.size, chunk):
        packets += encoder.encode(_audio_frame(samples[start : start + chunk], start))
    packets += encoder.encode(None)
    return AacTrack(tuple(packets), bytes(encoder.extradata or b""), int(samples.size))


def _configure_aac(codec) -> None:
    # Mono: the voice is mono, and dual-mono stereo would measure +3 LU louder.
    codec.layout = "mono"
    codec.bit_rate = AUDIO_BITRATE
    codec.options = AAC_OPTIONS


def _audio_frame(samples: np.ndarray, pts: int):
    import av

    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[None, :], dtype=np.float32), format="fltp", layout="mono")
    frame.sample_rate = AUDIO_RATE_HZ
    frame.pts = pts
    return frame


@contextmanager
def single_threaded_math() -> Iterator[None]:
    """OpenCV and BLAS on one thread each while x264 encodes.

    x264 already keeps both cores of a small machine busy; OpenCV's and OpenBLAS's
    worker pools on top of it spun more than they helped (measured on 2 cores: 10.7 ms
    CPU per produced frame with their pools against 6.9 ms with one thread each).
    """
    import cv2
    from threadpoolctl import threadpool_limits

    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        cv2.setNumThreads(previous)


def produce_in_thread(
    frames: Iterator[np.ndarray], prepare: Callable[[int, np.ndarray], np.ndarray], depth: int = 4
) -> Iterator[np.ndarray]:
    """Run frame synthesis in a producer thread beside the encoder.

    ``prepare(index, rgb)`` runs in the producer (captions, colour conversion). Errors
    in the producer are re-raised in the consumer; a consumer that stops early makes
    the producer stop too.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def run() -> None:
        try:
            for index, rgb in enumerate(frames):
                item = prepare(index, rgb)
                while not stop.is_set():
                    try:
                        buffer.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(done)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            buffer.put(exc)

    worker = threading.Thread(target=run, name="frame-producer", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)
