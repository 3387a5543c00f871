"""Timeline -> Performance: visemes with coarticulation, blinks, head motion.

Curves are built on a 200 Hz grid, smoothed (coarticulation), shifted earlier
(the lips move before the sound is heard) and sampled at the frame times. Lip
closures for p/b/m are enforced afterwards so smoothing can never erase them.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ...models import Timeline
from .performance import Performance
from .visemes import viseme_for

GRID_HZ = 200
ANTICIPATION_S = 0.06
SMOOTHING_SIGMA_S = 0.03
MIN_CLOSURE_FRAMES = 2
BLINK_INTERVAL_S = (2.0, 6.0)
BLINK_DURATION_S = (0.12, 0.2)


class DefaultPerformer:
    def __init__(self, settings=None) -> None:
        self._settings = settings

    def perform(self, timeline: Timeline, fps: int, frame_count: int, seed: int, intensity: float = 1.0) -> Performance:
        rng = np.random.default_rng(seed)
        times = np.arange(frame_count) / fps
        jaw, width = mouth_curves(timeline, times)
        close = closure_curve(timeline, fps, frame_count)
        jaw = np.where(close > 0, np.minimum(jaw, 0.05), jaw)
        speaking = gaussian_filter1d(jaw, sigma=max(1.0, 0.4 * fps))
        pitch, yaw, roll, dx, dy, brow = head_curves(timeline, times, speaking, rng, intensity)
        blink = blink_curve(times, rng)
        as32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
        return Performance(
            fps=fps,
            jaw_open=as32(jaw),
            lip_width=as32(width),
            lip_close=as32(close),
            blink=as32(blink),
            head_pitch_deg=as32(pitch),
            head_yaw_deg=as32(yaw),
            head_roll_deg=as32(roll),
            head_dx=as32(dx),
            head_dy=as32(dy),
            brow_raise=as32(brow),
        )


def mouth_curves(timeline: Timeline, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    end = max(timeline.duration_s, float(times[-1]) if times.size else 0.0) + 0.5
    grid = np.arange(int(end * GRID_HZ) + 1) / GRID_HZ
    jaw = np.zeros_like(grid)
    width = np.zeros_like(grid)
    for phone in timeline.phonemes:
        viseme = viseme_for(phone.symbol)
        a, b = int(phone.start_s * GRID_HZ), max(int(phone.start_s * GRID_HZ) + 1, int(phone.end_s * GRID_HZ))
        jaw[a:b] = viseme.jaw_open
        width[a:b] = viseme.lip_width
    sigma = SMOOTHING_SIGMA_S * GRID_HZ
    jaw = gaussian_filter1d(jaw, sigma)
    width = gaussian_filter1d(width, sigma * 1.5)
    sample_at = times + ANTICIPATION_S
    return np.interp(sample_at, grid, jaw), np.interp(sample_at, grid, width)


def closure_curve(timeline: Timeline, fps: int, frame_count: int) -> np.ndarray:
    """1 on the frames where the lips must touch; every p/b/m gets >= 2 frames."""
    close = np.zeros(frame_count)
    for phone in timeline.phonemes:
        if viseme_for(phone.symbol).lip_close < 1.0:
            continue
        # The closure happens before the release burst, so lead it like the rest.
        start = int(round((phone.start_s - ANTICIPATION_S / 2) * fps))
        end = max(start + MIN_CLOSURE_FRAMES, int(round(phone.end_s * fps)))
        close[max(0, start) : min(frame_count, end)] = 1.0
    return close


def blink_curve(times: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    blink = np.zeros_like(times)
    if not times.size:
        return blink
    t = rng.uniform(0.6, 2.5)
    while t < times[-1]:
        duration = rng.uniform(*BLINK_DURATION_S)
        phase = (times - t) / duration
        # Lids close faster than they open.
        shape = np.where(phase < 0.4, phase / 0.4, 1.0 - (phase - 0.4) / 0.6)
        blink = np.maximum(blink, np.where((phase >= 0) & (phase <= 1), shape, 0.0))
        t += duration + rng.uniform(*BLINK_INTERVAL_S)
    return np.clip(blink, 0.0, 1.0)


def head_curves(timeline: Timeline, times: np.ndarray, speaking: np.ndarray, rng, intensity: float):
    """Slow sway, breathing, nods on long/stressed words and brow raises on emphasis."""

    def sway(amplitude: float) -> np.ndarray:
        freqs = rng.uniform(0.07, 0.35, size=3)
        phases = rng.uniform(0, 2 * np.pi, size=3)
        weights = np.array([1.0, 0.5, 0.25])
        return amplitude * (weights[:, None] * np.sin(2 * np.pi * freqs[:, None] * times + phases[:, None])).sum(0) / weights.sum()

    energy = 0.4 + 0.6 * np.clip(speaking / 0.4, 0.0, 1.0)
    pitch = sway(1.2) * energy
    yaw = sway(2.0) * energy
    roll = sway(1.0)
    dx = sway(0.006)
    breathing = 0.003 * np.sin(2 * np.pi * 0.23 * times + rng.uniform(0, 2 * np.pi))
    dy = sway(0.004) + breathing
    brow = np.zeros_like(times)
    for word in timeline.words:
        emphatic = word.emphasis or word.text.endswith("!") or (word.end_s - word.start_s) > 0.45
        bump = np.exp(-0.5 * ((times - word.start_s - 0.08) / 0.12) ** 2)
        if (word.end_s - word.start_s) > 0.28 or emphatic:
            pitch += 1.1 * bump  # a small nod down on the stressed syllable
        if emphatic:
            brow = np.maximum(brow, bump)
    return (pitch * intensity, yaw * intensity, roll * intensity, dx * intensity, dy * intensity, brow * min(1.0, intensity))
