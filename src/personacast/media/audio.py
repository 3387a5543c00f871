"""Read any audio file (WAV, MP3, M4A, OGG, FLAC, a video's sound) as mono float32."""

from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np

from ..errors import MediaError

MAX_RATE_HZ = 48000


def decode_audio(path: Path, rate_hz: int | None = None) -> tuple[np.ndarray, int]:
    """Mono float32 samples in [-1, 1] and their rate: ``rate_hz`` if given, else the
    file's own rate (at most 48 kHz)."""
    import av

    if not path.is_file():
        raise MediaError(f"audio file not found: {path}", hint="check the path")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise MediaError(f"{path} has no audio stream", hint="give a WAV, MP3, M4A, OGG or FLAC file")
            stream = container.streams.audio[0]
            target = rate_hz or min(stream.rate or MAX_RATE_HZ, MAX_RATE_HZ)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=target)
            pieces = [out.to_ndarray().reshape(-1) for frame in container.decode(stream) for out in resampler.resample(frame)]
            pieces += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    except MediaError:
        raise
    except (av.error.FFmpegError, ValueError) as exc:
        raise MediaError(f"cannot read audio file {path}: {exc}".splitlines()[0]) from None
    samples = np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)
    if samples.size == 0:
        raise MediaError(f"{path} contains no audio samples")
    return np.clip(samples, -1.0, 1.0), target


def resample(samples: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """Mono float32 samples at another rate (polyphase, exact for any integer rates)."""
    if from_hz == to_hz:
        return samples
    from scipy.signal import resample_poly

    divisor = gcd(from_hz, to_hz)
    return resample_poly(samples, to_hz // divisor, from_hz // divisor).astype(np.float32)
