"""What the language models are asked: the persona and rules (system prompt), the
brief, a re-ask after an unusable answer, and a request to shorten."""

from __future__ import annotations

from .written import WritingBrief

_KEYS = (
    '"title": a short post title (at most 60 characters),\n'
    '"hook": the first spoken line, one sentence that makes a scroller stop,\n'
    '"scenes": the body, a list of 2 to 5 objects {"text": one to three spoken sentences, '
    '"on_screen_text": an overlay of 2 to 6 words},\n'
    '"call_to_action": the last spoken line,\n'
    '"caption": the post caption, one or two sentences (an emoji is fine),\n'
    '"hashtags": 3 to 5 hashtags without "#".'
)


def system_prompt(brief: WritingBrief) -> str:
    persona = brief.persona
    lines = [
        f"You write scripts for short vertical videos in which {brief.character_name}, a social-media creator, "
        "talks straight to the camera.",
    ]
    if persona.personality:
        lines.append(f"{brief.character_name}'s personality: {persona.personality}.")
    lines.append(f"Tone: {persona.tone}. Write in {persona.language}.")
    if persona.topics:
        lines.append(f"Recurring topics of the channel: {', '.join(persona.topics)}.")
    if persona.brand_rules:
        lines.append("Brand rules:\n" + "\n".join(f"- {rule}" for rule in persona.brand_rules))
    if persona.banned_topics:
        lines.append(f"Never touch these topics: {', '.join(persona.banned_topics)}.")
    if persona.banned_words:
        lines.append(f"Never use these words: {', '.join(persona.banned_words)}.")
    lines += [
        "Never promise health, weight-loss or money results: no cures, no guaranteed returns, "
        "nothing risk-free, no 'lose X kg in a week'.",
        "Write for the ear: short sentences, contractions, plain words, numbers as people say them. "
        "No stage directions, emojis or hashtags in the spoken lines.",
        "Answer with only a JSON object, no prose and no code fence, with these keys:\n" + _KEYS,
    ]
    return "\n\n".join(lines)


def user_prompt(brief: WritingBrief, words: int) -> str:
    lines = [
        f"Topic: {brief.topic}",
        f"Platform: {brief.format}; the video must stay under {brief.max_s:.0f} seconds.",
        f"Length: about {words} spoken words in all (hook, scenes and call to action), "
        f"which is about {brief.target_s:.0f} seconds.",
    ]
    if brief.variant:
        lines.append(
            f"This is post {brief.variant + 1} on this topic in a series: take a different angle "
            "from an introduction, and do not repeat the usual opening."
        )
    return "\n".join(lines)


def reask_prompt(reason: str) -> str:
    return (
        f"That answer could not be used: {reason}. Reply again with only the JSON object and the keys "
        "title, hook, scenes (a list of objects with text and on_screen_text), call_to_action, caption and hashtags."
    )


def shorten_prompt(estimated_s: float, limit_s: float, words: int) -> str:
    return (
        f"That script runs about {estimated_s:.0f} seconds when spoken; it must fit in {limit_s:.0f}. "
        f"Shorten it to at most {words} spoken words in all, keeping the hook and the call to action. "
        "Reply with the whole JSON object again."
    )
