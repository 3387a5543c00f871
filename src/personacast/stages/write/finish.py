"""The last step of every writer: fit the length, then the safety pass."""

from __future__ import annotations

from .fitting import SHORT_SHARE, length_limit, script_seconds, trim_to_fit
from .safety import check_script
from .written import Usage, WriteResult, WritingBrief, WrittenScript


def finish(
    written: WrittenScript, brief: WritingBrief, writer: str, *, model: str | None = None,
    usage: Usage | None = None, warnings: list[str] | None = None,
) -> WriteResult:
    """Cut a script that runs too long at sentence boundaries, note one that is short,
    and reject it (ContentError) if it breaks a content rule."""
    notes = list(warnings or [])
    limit = length_limit(brief.target_s, brief.max_s)
    seconds = script_seconds(written, brief.voice)
    if seconds > limit:
        trimmed = trim_to_fit(written, brief.voice, limit)
        fitted = script_seconds(trimmed, brief.voice)
        notes.append(f"the script ran about {seconds:.0f} s; sentences were cut to fit {limit:.0f} s (now about {fitted:.0f} s)")
        if fitted > limit:
            notes.append(f"the script still runs about {fitted:.0f} s, over {limit:.0f} s: shorten the hook")
        written, seconds = trimmed, fitted
    elif seconds < brief.target_s * SHORT_SHARE:
        notes.append(f"the script runs about {seconds:.0f} s, short of the {brief.target_s:.0f} s asked for")
    check_script(written, brief.persona)
    return WriteResult(
        written=written, estimated_s=round(seconds, 1), writer=writer, model=model, usage=usage or Usage(), warnings=notes
    )
