"""Which broker queue a render goes to: GPU animators need a machine with a GPU, every
other render runs anywhere."""

from __future__ import annotations

from typing import Literal

Queue = Literal["cpu", "gpu"]
QUEUES: tuple[Queue, ...] = ("cpu", "gpu")

# The one list of animators that need a GPU worker (the registry's names): the neural
# animator runs a lip-sync model on every frame, and image-to-video when configured.
GPU_ANIMATORS: frozenset[str] = frozenset({"neural"})


def queue_for(animator: str) -> Queue:
    """The queue for a render animated by ``animator``. Requests do not choose their
    animator yet, so today this is the deployment's PERSONACAST_ANIMATOR_BACKEND."""
    return "gpu" if animator in GPU_ANIMATORS else "cpu"
