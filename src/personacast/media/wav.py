"""16-bit PCM WAV files for the intermediate voice track (stdlib only)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from ..errors import MediaError


def write_wav(path: Path, samples: np.ndarray, rate_hz: int) -> None:
    with WavWriter(path, rate_hz) as writer:
        writer.write(samples)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples in [-1, 1] and the sample rate."""
    try:
        with wave.open(str(path), "rb") as handle:
            channels, width, rate = handle.getnchannels(), handle.getsampwidth(), handle.getframerate()
            raw = handle.readframes(handle.getnframes())
    except (wave.Error, EOFError, FileNotFoundError) as exc:
        raise MediaError(f"cannot read WAV file {path}: {exc}") from None
    if width != 2:
        raise MediaError(f"{path}: only 16-bit PCM WAV is supported, got {8 * width}-bit")
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


class WavWriter:
    """16-bit mono WAV written piece by piece, so long speech never sits in memory whole."""

    def __init__(self, path: Path, rate_hz: int) -> None:
        self.rate_hz = rate_hz
        self.samples_written = 0
        self._handle = wave.open(str(path), "wb")
        self._handle.setnchannels(1)
        self._handle.setsampwidth(2)
        self._handle.setframerate(rate_hz)

    def write(self, samples: np.ndarray) -> None:
        self._handle.writeframes((np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes())
        self.samples_written += samples.size

    def write_silence(self, seconds: float) -> None:
        self.write(np.zeros(int(round(seconds * self.rate_hz)), dtype=np.float32))

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> "WavWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
