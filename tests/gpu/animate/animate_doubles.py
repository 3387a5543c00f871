"""Test doubles for the neural animator's backends. Not models: they draw a mouth shape
and shift pictures, so that what the animator does around them can be measured."""

from __future__ import annotations

import cv2
import numpy as np

from personacast.stages.lipsync.paste import CROP_TEMPLATE
from personacast.stages.motion.base import MotionClip

LOUD = 0.05  # RMS above which the double draws an open mouth


class MouthDrawingModel:
    """A LipSyncModel double: its audio features are each frame's RMS energy; it draws a
    dark open mouth at the template's mouth for loud frames and a thin closed one for
    quiet frames, into the crop's lower half only, as the real models do."""

    name = "mouth-drawing-double"
    required_models: tuple[str, ...] = ()
    licence_note = "mouth-drawing-double: a test double, no weights"

    def __init__(self, crop_size: int = 96, batch_size: int = 16) -> None:
        self.crop_size = crop_size
        self.batch_size = batch_size
        self.calls: list[list[int]] = []

    def audio_features(self, samples: np.ndarray, sample_rate: int, fps: float, frame_count: int) -> np.ndarray:
        energy = np.zeros(frame_count, np.float32)
        for i in range(frame_count):
            part = samples[int(i / fps * sample_rate) : int((i + 1) / fps * sample_rate)]
            energy[i] = float(np.sqrt(np.mean(part**2))) if len(part) else 0.0
        return energy

    def sync(self, crops: np.ndarray, references: np.ndarray, features: np.ndarray, frame_indices: list[int]) -> np.ndarray:
        assert crops.dtype == np.uint8 and crops.shape[1:] == (self.crop_size, self.crop_size, 3)
        assert references.shape == crops.shape and len(frame_indices) == len(crops)
        self.calls.append(list(frame_indices))
        out = crops.copy()
        s = self.crop_size
        left, right = CROP_TEMPLATE[3] * s, CROP_TEMPLATE[4] * s
        centre = (int(round((left[0] + right[0]) / 2)), int(round((left[1] + right[1]) / 2)))
        half_width = int(round((right[0] - left[0]) / 2))
        for crop, index in zip(out, frame_indices):
            if features[index] > LOUD:
                cv2.ellipse(crop, centre, (half_width, max(2, s // 10)), 0, 0, 360, (40, 12, 16), -1)
            else:
                cv2.line(crop, (centre[0] - half_width, centre[1]), (centre[0] + half_width, centre[1]), (120, 60, 60), max(1, s // 48))
        return out


class ShiftingMotion:
    """A MotionBackend double: each segment is its start picture slid ``step`` pixels
    further right per frame (a head moving steadily), made at 8 fps."""

    name = "shifting-double"
    required_models: tuple[str, ...] = ()
    frames_per_segment = 6

    def __init__(self, step: float = 2.0) -> None:
        self.step = step
        self.calls: list[int] = []

    def cache_identity(self) -> dict:
        return {"backend": self.name, "step": self.step, "frames": self.frames_per_segment}

    def generate(self, image: np.ndarray, seed: int, first_frame: np.ndarray | None = None) -> MotionClip:
        self.calls.append(seed)
        start = image if first_frame is None else first_frame
        h, w = start.shape[:2]
        frames = [
            cv2.warpAffine(start, np.float32([[1, 0, k * self.step], [0, 1, 0]]), (w, h), borderMode=cv2.BORDER_REFLECT)
            for k in range(self.frames_per_segment)
        ]
        return MotionClip(np.stack(frames), 8.0)


def moving_portrait(rgb: np.ndarray, count: int, dx: float = 1.5, degrees: float = 0.4) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``rgb`` slid ``dx`` px right, a little down and turned ``degrees`` more each frame,
    and the 2x3 matrix of each frame (so the true landmark positions are known)."""
    h, w = rgb.shape[:2]
    frames, matrices = [], []
    for i in range(count):
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees * i, 1.0)
        matrix[0, 2] += dx * i
        matrix[1, 2] += 0.5 * i
        frames.append(cv2.warpAffine(rgb, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
        matrices.append(matrix)
    return frames, matrices


def walking_portrait(rgb: np.ndarray, count: int, width: int = 910) -> list[np.ndarray]:
    """``rgb`` on a wide grey frame (910x512: 16:9), slid from its left edge to its
    right over ``count`` frames: someone walking sideways through a landscape shot."""
    h, w = rgb.shape[:2]
    frames = []
    for k in range(count):
        frame = np.full((h, width, 3), 90, np.uint8)
        x = round(k * (width - w) / (count - 1))
        frame[:, x : x + w] = rgb
        frames.append(frame)
    return frames


def write_video(path, frames: list[np.ndarray], fps: int = 24) -> None:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "10"}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


class PassThroughModel(MouthDrawingModel):
    """Gives every crop back unchanged: what the base frames look like."""

    name = "pass-through-double"

    def sync(self, crops, references, features, frame_indices):
        self.calls.append(list(frame_indices))
        return crops.copy()


class BlankMotion(ShiftingMotion):
    """Motion that loses the face: every frame is flat grey."""

    def generate(self, image, seed, first_frame=None):
        clip = super().generate(image, seed, first_frame)
        return MotionClip(np.full_like(clip.frames, 128), clip.fps)


def with_display_rotation(path) -> None:
    """Mark an MP4 as shown turned 90 degrees clockwise, as phones store portrait video:
    the track header's matrix (identity as written) becomes a rotation."""
    import struct

    data = path.read_bytes()
    identity = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    turned = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    at = data.index(identity, data.index(b"tkhd"))
    path.write_bytes(data[:at] + turned + data[at + len(identity) :])
