"""A language model's answer -> ``WrittenScript``, repairing what models commonly get
wrong before giving up: the JSON wrapped in prose or a code fence, trailing commas, raw
line breaks inside strings, the script nested under one key, other names for fields,
and values of a near type (a list of lines for a string, a string of tags for a list,
plain strings for scenes, numbers for text). Anything else fails with a short reason
that the writer sends back to the model once.
"""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

from .written import WrittenScript

_FENCE_RE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.DOTALL)
_PARAGRAPHS_RE = re.compile(r"\n\s*\n")
_TAG_RE = re.compile(r"#?(\w+)")
_MAX_REASONS = 3

# Other names models use for the fields (compared lower case, spaces and dashes as "_").
_ALIASES = {
    "cta": "call_to_action", "calltoaction": "call_to_action", "call_to_actions": "call_to_action",
    "outro": "call_to_action", "closing": "call_to_action",
    "body": "scenes", "beats": "scenes", "sections": "scenes", "points": "scenes",
    "tags": "hashtags", "hash_tags": "hashtags",
    "headline": "title", "opening": "hook", "description": "caption", "post_caption": "caption",
}
_SCENE_ALIASES = {
    "line": "text", "lines": "text", "voiceover": "text", "voice_over": "text", "spoken": "text",
    "script": "text", "narration": "text", "dialogue": "text",
    "on_screen": "on_screen_text", "onscreen_text": "on_screen_text", "overlay": "on_screen_text",
    "text_overlay": "on_screen_text", "overlay_text": "on_screen_text", "screen_text": "on_screen_text",
}
_TEXT_FIELDS = ("title", "hook", "call_to_action", "caption")


class UnusableOutput(Exception):
    """The answer could not be made into a script; ``reason`` says why, for the re-ask."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_written(answer: str) -> WrittenScript:
    data = coerce(extract_object(answer))
    try:
        return WrittenScript.model_validate(data)
    except ValidationError as exc:
        raise UnusableOutput(_describe(exc)) from None


def extract_object(answer: str) -> dict:
    """The JSON object in ``answer``: in a code fence, in prose, or the whole answer."""
    if not answer.strip():
        raise UnusableOutput("the answer was empty")
    candidates = [m.group(1) for m in _FENCE_RE.finditer(answer)] + [_outermost_object(answer), answer]
    for candidate in filter(None, candidates):
        for text in (candidate, _without_trailing_commas(candidate)):
            try:
                value = json.loads(text, strict=False)  # strict=False: raw line breaks in strings
            except ValueError:
                continue
            found = _script_object(value)
            if found is not None:
                return found
    raise UnusableOutput("no JSON object was found in the answer")


def coerce(data: dict) -> dict:
    """Field names and near types fixed where the meaning is unambiguous."""
    fixed: dict = {}
    for key, value in data.items():
        name = _key(key)
        name = _ALIASES.get(name, name)
        if value is not None and name not in fixed:
            fixed[name] = value
    for name in _TEXT_FIELDS:
        if name in fixed:
            fixed[name] = _as_text(fixed[name])
    if "scenes" in fixed:
        fixed["scenes"] = _as_scenes(fixed["scenes"])
    if "hashtags" in fixed:
        fixed["hashtags"] = _as_tags(fixed["hashtags"])
    return fixed


def _key(key: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(key).strip().lower())


def _as_text(value: object) -> object:
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return " ".join(str(v) for v in value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _as_scenes(value: object) -> object:
    if isinstance(value, str):
        return [{"text": part} for part in _PARAGRAPHS_RE.split(value) if part.strip()]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return value
    scenes = []
    for item in value:
        if isinstance(item, str):
            scenes.append({"text": item})
        elif isinstance(item, dict):
            scene: dict = {}
            for key, field_value in item.items():
                name = _SCENE_ALIASES.get(_key(key), _key(key))
                if field_value is not None and name not in scene:
                    scene[name] = _as_text(field_value)
            scenes.append(scene)
        else:
            scenes.append(item)
    return scenes


def _as_tags(value: object) -> object:
    if isinstance(value, str):
        return _TAG_RE.findall(value)
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, (str, int))]
    return value


def _script_object(value: object) -> dict | None:
    """The object itself, the one object in a list, or one nested under a single key."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict):
        return None
    if len(value) == 1:
        (inner,) = value.values()
        if isinstance(inner, dict) and any(_key(k) in ("hook", "scenes") for k in inner):
            return inner
    return value


def _outermost_object(text: str) -> str | None:
    """From the first "{" to the brace that closes it, skipping braces inside strings."""
    start = text.find("{")
    if start < 0:
        return None
    depth = 0
    in_string = _in_strings(text)
    for index in range(start, len(text)):
        if in_string[index]:
            continue
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return text[start : index + 1]
    return None


def _without_trailing_commas(text: str) -> str:
    """Drops a comma that is followed (after blanks) by "}" or "]", outside strings."""
    in_string = _in_strings(text)
    return "".join(
        char for index, char in enumerate(text)
        if in_string[index] or char != "," or text[index + 1 :].lstrip()[:1] not in ("}", "]")
    )


def _in_strings(text: str) -> list[bool]:
    """For each character, whether it belongs to a JSON string (its quotes included)."""
    mask: list[bool] = []
    inside, escaped = False, False
    for char in text:
        if inside:
            mask.append(True)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                inside = False
        else:
            inside = char == '"'
            mask.append(inside)
    return mask


def _describe(exc: ValidationError) -> str:
    reasons = []
    for error in exc.errors()[:_MAX_REASONS]:
        where = ".".join(str(part) for part in error["loc"]) or "the object"
        reasons.append(f"{where}: {error['msg']}")
    return "; ".join(reasons)
