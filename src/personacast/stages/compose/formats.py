"""Delivery presets for the platforms, with the zones their UI covers."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import FormatError


@dataclass(frozen=True)
class SafeZone:
    """Margins (fractions of the frame) that the platform's UI may cover."""

    top: float = 0.0
    bottom: float = 0.0
    left: float = 0.0
    right: float = 0.0


@dataclass(frozen=True)
class FormatPreset:
    name: str
    width: int
    height: int
    fps_allowed: tuple[int, ...] = (24, 25, 30, 50, 60)
    max_duration_s: float = 600.0
    max_video_kbps: int = 20_000
    audio_rates_hz: tuple[int, ...] = (44_100, 48_000)
    target_lufs: float = -14.0
    loudness_tolerance_lu: float = 1.0
    max_true_peak_dbtp: float = -1.0
    safe: SafeZone = SafeZone()
    # The longest post caption the platform takes (TikTok and Instagram 2,200; YouTube's
    # description 5,000: the Shorts title's 100 is met by keeping titles that short).
    caption_max_chars: int = 2200

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def safe_rect(self) -> tuple[int, int, int, int]:
        """The safe zone in pixels: x0, y0, x1, y1 (end exclusive)."""
        return (
            int(self.safe.left * self.width),
            int(self.safe.top * self.height),
            int((1 - self.safe.right) * self.width),
            int((1 - self.safe.bottom) * self.height),
        )


_VERTICAL_UI = SafeZone(top=0.08, bottom=0.20, left=0.04, right=0.12)

PRESETS: dict[str, FormatPreset] = {
    preset.name: preset
    for preset in (
        FormatPreset("tiktok", 1080, 1920, max_duration_s=600.0, safe=_VERTICAL_UI),
        FormatPreset("reels", 1080, 1920, max_duration_s=180.0, safe=_VERTICAL_UI),
        FormatPreset("shorts", 1080, 1920, max_duration_s=180.0, safe=_VERTICAL_UI, caption_max_chars=5000),
        FormatPreset("square", 1080, 1080, max_duration_s=600.0, safe=SafeZone(bottom=0.10)),
        FormatPreset("portrait", 1080, 1350, max_duration_s=600.0, safe=SafeZone(bottom=0.12)),
        FormatPreset("landscape", 1920, 1080, max_duration_s=3600.0, safe=SafeZone(bottom=0.12), caption_max_chars=5000),
    )
}


def get_preset(name: str) -> FormatPreset:
    try:
        return PRESETS[name.strip().lower()]
    except KeyError:
        raise FormatError(
            f"unknown format '{name}'", hint=f"choose one of: {', '.join(PRESETS)}"
        ) from None
