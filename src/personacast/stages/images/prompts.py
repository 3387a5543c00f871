"""Prompts for new pictures of a character, from character.yaml's ``appearance``.

Each picture gets one pose x outfit x scenario combination and its own seed. The
combinations are taken so that every pose, outfit and scenario comes round as evenly
as possible (a batch of 8 from 4 poses x 3 outfits x 3 scenarios shows all 4 poses,
not the first pose 8 times), cycling when more pictures are asked for than there are
combinations; seeds follow the usual base + index convention, so one picture can be
made again, here or in another Stable Diffusion tool, from the manifest's seed alone.

CLIP reads 77 tokens (75 words and marks between its start and end tokens) and drops
the rest silently. A prompt over the limit loses its least important phrases first:
the style's, from the last, then the description's after its first; the trigger,
pose, outfit and scenario are what make the pictures the character and different from
each other, so they stay, and a prompt still too long is reported.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from ...errors import ConfigError
from ...models import Appearance

CLIP_MAX_TOKENS = 77  # including the start and end tokens
SEED_MODULUS = 2**32

TokenCounter = Callable[[str], int]  # tokens of a text, start and end tokens included


@dataclass(frozen=True)
class ImagePrompt:
    index: int
    seed: int
    prompt: str
    negative: str
    pose: str | None
    outfit: str | None
    scenario: str | None
    dropped: tuple[str, ...] = ()  # phrases left out to fit CLIP's limit


@dataclass(frozen=True)
class PromptPlan:
    prompts: list[ImagePrompt]
    warnings: list[str]


def image_seed(base_seed: int, index: int) -> int:
    return (base_seed + index) % SEED_MODULUS


def combinations(appearance: Appearance) -> list[tuple[str | None, str | None, str | None]]:
    """Every pose x outfit x scenario, an empty list standing for "not said"."""
    axes = [appearance.poses or [None], appearance.outfits or [None], appearance.scenarios or [None]]
    return list(itertools.product(*axes))


def balanced_order(combos: list[tuple[str | None, ...]], count: int) -> list[tuple[str | None, ...]]:
    """The first ``count`` combinations (at most all of them), each next one the one whose
    values have been used least so far; ties go to the earlier in product order."""
    used: list[dict[str | None, int]] = [{} for _ in range(len(combos[0]))]
    left = list(combos)
    order = []
    for _ in range(min(count, len(combos))):
        best = min(left, key=lambda combo: sum(used[axis].get(value, 0) for axis, value in enumerate(combo)))
        left.remove(best)
        order.append(best)
        for axis, value in enumerate(best):
            used[axis][value] = used[axis].get(value, 0) + 1
    return order


def _phrases(text: str) -> list[str]:
    return [phrase.strip() for phrase in text.split(",") if phrase.strip()]


Phrase = tuple[str, int]  # text, and when it may go: 0 never, higher numbers first


def fit_prompt(phrases: list[Phrase], count_tokens: TokenCounter, limit: int = CLIP_MAX_TOKENS) -> tuple[str, tuple[str, ...]]:
    """The phrases joined by commas, without the droppable ones that do not fit in
    ``limit`` tokens: highest rank first, the last of a rank first. Returns the prompt
    and what was left out, in the order it was."""
    kept = list(phrases)
    dropped: list[str] = []
    while count_tokens(", ".join(text for text, _ in kept)) > limit:
        droppable = [i for i, (_, rank) in enumerate(kept) if rank > 0]
        if not droppable:
            break
        last = max(droppable, key=lambda i: (kept[i][1], i))
        dropped.append(kept.pop(last)[0])
    return ", ".join(text for text, _ in kept), tuple(dropped)


def build_prompts(appearance: Appearance, base_seed: int, n: int, count_tokens: TokenCounter) -> PromptPlan:
    """``n`` prompts for ``appearance``, seeds from ``base_seed``. ``count_tokens`` is the
    model's tokenizer (see StableDiffusionImages)."""
    if n < 1:
        raise ConfigError(f"asked for {n} images", hint="ask for at least one")
    if not (appearance.trigger.strip() or appearance.description.strip()):
        raise ConfigError(
            "appearance has neither a trigger word nor a description",
            hint="set appearance.description (what the character looks like) and, with a LoRA, its trigger word",
        )
    combos = combinations(appearance)
    order = balanced_order(combos, n)
    trigger = [appearance.trigger.strip()] if appearance.trigger.strip() else []
    description = _phrases(appearance.description)
    negative, negative_dropped = fit_prompt([(phrase, 1) for phrase in _phrases(appearance.negative)], count_tokens)
    warnings = []
    if negative_dropped:
        warnings.append(f"the negative prompt is over CLIP's {CLIP_MAX_TOKENS} tokens; left out: {', '.join(negative_dropped)}")
    prompts = []
    too_long = []
    for index in range(n):
        pose, outfit, scenario = order[index % len(order)]
        # The description's first phrase says who the character is; its others may go
        # after the style's.
        phrases = [(text, 0) for text in trigger + description[:1]] + [(text, 1) for text in description[1:]]
        phrases += [(text, 0) for text in (pose, outfit, scenario) if text]
        phrases += [(text, 2) for text in _phrases(appearance.style)]
        prompt, dropped = fit_prompt(phrases, count_tokens)
        if count_tokens(prompt) > CLIP_MAX_TOKENS:
            too_long.append(str(index))
        prompts.append(ImagePrompt(index, image_seed(base_seed, index), prompt, negative, pose, outfit, scenario, dropped))
    shortened = sum(1 for p in prompts if p.dropped)
    if shortened:
        warnings.append(f"{shortened} prompt(s) over CLIP's {CLIP_MAX_TOKENS} tokens lost style or description phrases (see the manifest)")
    if too_long:
        warnings.append(
            f"the prompt of image(s) {', '.join(too_long)} is still over CLIP's {CLIP_MAX_TOKENS} tokens and its end will be "
            "cut: shorten appearance.description, poses, outfits or scenarios"
        )
    return PromptPlan(prompts, warnings)
