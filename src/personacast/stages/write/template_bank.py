"""The words the template writer composes scripts from: angles (how a post approaches
its topic: hooks, titles, body beats) and tones (how the creator sounds: openers,
connectors, asides, calls to action).

Placeholders: {topic} (as given), {Topic} (first letter capitalised), {N} (the number
of beats, in digits: captions show digits and the voice reads them), {name} (the
character). Beats that follow a connector ("First,") or label ("Mistake one:") start in
lower case; beats without labels are whole sentences. Every line is written to be said
out loud in a short video, and none makes a health or money promise.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Beat:
    text: str
    overlay: str  # the on-screen words; also the recap's words, lower-cased


@dataclass(frozen=True)
class Angle:
    name: str
    hooks: tuple[str, ...]
    titles: tuple[str, ...]
    beats: tuple[Beat, ...]
    # Before each beat: None = the tone's connectors ("First,"), () = nothing (a story).
    labels: tuple[str, ...] | None
    caption: str
    tag: str  # a hashtag that fits the angle
    recap: str | None = None  # "{list}" = the overlays said so far
    ordered: bool = False  # the beats tell a story: kept in order, no asides between them


@dataclass(frozen=True)
class Tone:
    name: str
    keywords: tuple[str, ...]  # word beginnings that pick this tone in persona.tone/personality
    openers: tuple[str, ...]  # said before the hook; "" = straight in
    bridges: tuple[str, ...]  # said after the hook
    ordinals: tuple[str, ...]
    last: str  # the last beat's connector when there are three or more
    asides: tuple[str, ...]  # a remark after a beat, to fill a longer video
    calls: tuple[str, ...]  # calls to action
    caption_tails: tuple[str, ...]
    exclaims: bool = False  # statements in the hook and call to action end with "!"


ANGLES: tuple[Angle, ...] = (
    Angle(
        name="mistakes",
        hooks=(
            "Here are {N} mistakes people make with {topic}, and I made every single one.",
            "Stop doing these {N} things if you care about {topic}.",
            "Stuck with {topic}? It's probably one of these {N} mistakes.",
            "I see these {N} mistakes with {topic} all the time.",
        ),
        titles=("{N} mistakes people make with {topic}", "{Topic}: {N} mistakes to stop making", "Stuck with {topic}? Read this"),
        beats=(
            Beat("doing too much, too soon. Pick one small part of {topic} and get it right before you add more.", "Too much, too soon"),
            Beat("copying someone else's routine to the letter. What works for a stranger online might not fit your life at all.", "Copying others"),
            Beat("skipping the boring basics. The basics are boring because they work.", "Skipping the basics"),
            Beat("judging it after one try. Give {topic} two honest weeks before you decide anything.", "Quitting too early"),
            Beat("waiting until you feel ready. You get ready by starting, not the other way round.", "Waiting to feel ready"),
            Beat("chasing perfect. Done and repeated beats perfect and abandoned, every time.", "Chasing perfect"),
        ),
        labels=("Mistake one:", "Mistake two:", "Mistake three:", "Mistake four:", "Mistake five:", "Mistake six:"),
        caption="The mistakes I see most with {topic}, and yes, I made all of them.",
        tag="tips",
        recap="So, no more {list}.",
    ),
    Angle(
        name="habits",
        hooks=(
            "{N} small habits that made {topic} so much easier for me.",
            "If you're finding {topic} hard, try these {N} things this week.",
            "Here's the advice about {topic} I wish someone had given me sooner.",
            "Save this before you start with {topic}.",
        ),
        titles=("{N} small habits for {topic}", "{Topic}, made easier", "Try this before you give up on {topic}"),
        beats=(
            Beat("start so small it feels silly. Five minutes on {topic} beats an hour you never get to.", "Start tiny"),
            Beat("tie it to something you already do, like your morning coffee or your commute.", "Stack it on a habit"),
            Beat("set everything up the night before, so future you has nothing to decide.", "Prep the night before"),
            Beat("write down one thing that went well each time. You'll notice progress you'd otherwise miss.", "Note one win"),
            Beat("keep a simple streak, and if you miss a day, just don't miss two.", "Never miss twice"),
            Beat("when you get stuck, ask yourself one question: what's the easiest next step?", "Easiest next step"),
        ),
        labels=None,
        caption="Small habits for {topic} that quietly add up.",
        tag="habits",
        recap="Quick recap: {list}.",
    ),
    Angle(
        name="myths",
        hooks=(
            "Everyone makes {topic} sound complicated. Honestly? It's simpler than that.",
            "Unpopular opinion: most advice about {topic} makes it harder than it is.",
            "Let's bust a few myths about {topic}.",
            "The biggest myth about {topic}? That you have to be good at it before you start.",
        ),
        titles=("Myths about {topic}, busted", "{Topic}: easier than you think", "Stop believing this about {topic}"),
        beats=(
            Beat("Myth: you need expensive gear. Truth: what you already own is plenty to start.", "No fancy gear needed"),
            Beat("Myth: you need hours every day. Truth: a few focused minutes, done often, go a long way.", "Minutes, not hours"),
            Beat("Myth: some people are just naturals. Truth: they started earlier and kept going.", "Nobody is a natural"),
            Beat("Myth: if it isn't fun right away, it isn't for you. Truth: it gets fun once you get a little better.", "The fun comes later"),
            Beat("Myth: you have to figure out {topic} alone. Truth: the best shortcut is learning from people a step ahead.", "Learn from others"),
        ),
        labels=(),
        caption="Let's clear up a few myths about {topic}.",
        tag="mythbusting",
    ),
    Angle(
        name="story",
        hooks=(
            "A year ago I knew almost nothing about {topic}.",
            "I almost gave up on {topic}. Here's what changed.",
            "Let me tell you how I went from dreading {topic} to actually enjoying it.",
        ),
        titles=("How {topic} finally clicked for me", "My honest story with {topic}", "I almost gave up on {topic}"),
        beats=(
            Beat("At first I tried to do everything at once, and honestly, I burned out in about a week.", "Burned out in week one"),
            Beat("So I started again, smaller this time, with just one thing I could do every day.", "Started smaller"),
            Beat("The first few days felt pointless. Nothing seemed to change.", "Nothing changed... yet"),
            Beat("But somewhere around week three, it clicked, and it stopped feeling like a chore.", "Week three: it clicked"),
            Beat("These days I barely think about {topic} at all, and that's the whole point.", "Now it's routine"),
            Beat("The biggest lesson? Showing up on the boring days mattered more than motivation.", "Consistency won"),
        ),
        labels=(),
        caption="My honest story with {topic}, slow start included.",
        tag="mystory",
        ordered=True,
    ),
    Angle(
        name="beginners",
        hooks=(
            "If you're new to {topic}, start here.",
            "Total beginner at {topic}? Here's exactly where to begin.",
            "Nobody explains the basics of {topic}, so let me.",
        ),
        titles=("{Topic} for beginners: start here", "Where to begin with {topic}", "The basics of {topic}, simply"),
        beats=(
            Beat("forget the advanced stuff you see online. It isn't for you yet, and that's completely fine.", "Skip the advanced stuff"),
            Beat("learn the one or two basics that everything else in {topic} is built on.", "Nail the basics"),
            Beat("practise a little and often, instead of a lot, once.", "Little and often"),
            Beat("pick one person or resource you trust, and tune out the rest of the noise for now.", "One trusted source"),
            Beat("expect it to feel awkward. Awkward means you're learning.", "Awkward = learning"),
        ),
        labels=None,
        caption="Your no-stress start with {topic}.",
        tag="beginners",
        recap="That's it: {list}.",
    ),
    Angle(
        name="lessons",
        hooks=(
            "{N} things I wish I knew before getting into {topic}.",
            "If I could start over with {topic}, here's what I'd do differently.",
            "What nobody tells you about {topic}.",
        ),
        titles=("What I wish I knew about {topic}", "{N} lessons from {topic}", "If I started over with {topic}"),
        beats=(
            Beat("it's okay to be bad at it for a while. Everyone is.", "Being bad is normal"),
            Beat("the gear matters way less than simply showing up.", "Show up > gear"),
            Beat("progress is slow, then sudden. Don't quit in the slow part.", "Slow, then sudden"),
            Beat("comparing yourself to people years ahead of you is a trap.", "Don't compare"),
            Beat("writing things down saves you from repeating the same mistakes with {topic}.", "Write it down"),
        ),
        labels=None,
        caption="What I'd tell myself on day one of {topic}.",
        tag="lessonslearned",
        recap="So: {list}.",
    ),
    Angle(
        name="one-shift",
        hooks=(
            "If you change just one thing about {topic}, make it this.",
            "The most underrated idea in {topic} takes no extra time at all.",
            "One small shift made {topic} so much easier for me.",
        ),
        titles=("One small shift for {topic}", "The most underrated idea in {topic}", "Change this one thing about {topic}"),
        beats=(
            Beat("Before you start, decide what good enough looks like today.", "Define good enough"),
            Beat("Not perfect. Not impressive. Just good enough.", "Not perfect. Enough."),
            Beat("It sounds too simple, but it takes the pressure off completely.", "Pressure: off"),
            Beat("And when the pressure is gone, you actually show up.", "You show up"),
            Beat("Showing up again and again is where all the progress with {topic} comes from.", "Progress = showing up"),
        ),
        labels=(),
        caption="One small shift for {topic} that changes a lot.",
        tag="mindset",
        ordered=True,
    ),
)

TONES: tuple[Tone, ...] = (
    Tone(
        name="energetic",
        keywords=("energ", "hype", "excit", "enthus", "bold", "loud", "upbeat", "bubbl", "motivat", "intense", "punchy", "fier"),
        openers=("Okay, stop scrolling.", "Listen up!", "Real talk!", ""),
        bridges=("Let's go!", "Let's get into it!", "Here we go!"),
        ordinals=("Number one:", "Number two:", "Number three:", "Number four:", "Number five:", "Number six:"),
        last="And the big one:",
        asides=("This one's huge!", "Seriously, don't skip it!", "Total game changer!"),
        calls=(
            "Follow now so you don't miss part two!",
            "Save this and try one today. No excuses!",
            "Drop a comment if you're in!",
            "Send this to the friend who needs a push!",
        ),
        caption_tails=("Let's go! 🔥", "Who's trying this today? 🙌", "No excuses this week! ⚡"),
        exclaims=True,
    ),
    Tone(
        name="calm",
        keywords=("calm", "gentle", "sooth", "soft", "mindful", "relax", "cozy", "cosy", "slow", "peace", "quiet", "ground", "seren"),
        openers=("Take a breath with me.", "Let's slow down for a second.", ""),
        bridges=("Here's what I've learned.", "Let's take it gently.", ""),
        ordinals=("To begin,", "Next,", "Then,", "After that,", "Also,", "And,"),
        last="And lastly,",
        asides=("There's no rush with this.", "Be kind to yourself here.", "Small is enough."),
        calls=(
            "Save this for a slow moment, and come back to it when you need it.",
            "Follow for more gentle reminders like this one.",
            "Tell me below what you'll try this week. No pressure.",
        ),
        caption_tails=("Go at your own pace 🌿", "Gently does it ☁️", "One small step at a time 🤍"),
    ),
    Tone(
        name="expert",
        keywords=("profession", "expert", "authorit", "inform", "educat", "precise", "analyt", "serious", "clear", "factual", "technical", "direct"),
        openers=("Quick lesson.", "Here's the short version.", ""),
        bridges=("Here's what actually works.", "Let's break it down.", ""),
        ordinals=("First,", "Second,", "Third,", "Fourth,", "Fifth,", "Sixth,"),
        last="Finally,",
        asides=("This is where most people go wrong.", "It's a small detail that matters a lot.", "Most people skip this step."),
        calls=(
            "Save this as a reference, and follow for more practical breakdowns.",
            "Questions? Ask in the comments and I'll answer them in the next video.",
            "Follow for more breakdowns like this one.",
        ),
        caption_tails=("Save it for later 📌", "Questions welcome below 👇", "Bookmark this one 📌"),
    ),
    Tone(
        name="playful",
        keywords=("playful", "funn", "witty", "humo", "sarcas", "cheeky", "silly", "irreverent", "quirky", "goofy", "dry", "jok"),
        openers=("Okay, confession time.", "Warning: this might call you out.", ""),
        bridges=("Don't worry, I've been there.", "Stick with me.", ""),
        ordinals=("Step one:", "Step two:", "Step three:", "Step four:", "Step five:", "Step six:"),
        last="And my personal favourite:",
        asides=("Yes, I'm looking at you.", "Ask me how I know.", "My past self is cringing right now."),
        calls=(
            "Follow, or don't. But you know you want part two.",
            "Tag the friend who needs to hear this. You know who.",
            "Comment 'guilty' if this was you.",
            "Save this before your future self forgets.",
        ),
        caption_tails=("Be honest, which one is you? 😅", "No judgement. Okay, a little 🙃", "Tag your accomplice 👀"),
    ),
    Tone(
        name="friendly",
        keywords=("friend", "warm", "casual", "kind", "support", "approach"),
        openers=("Hey friends!", "Hi, it's {name}!", "Okay, quick one.", ""),
        bridges=("Here's what helped me.", "Let's get into it.", ""),
        ordinals=("First,", "Second,", "Third,", "Fourth,", "Fifth,", "Sixth,"),
        last="And finally,",
        asides=("Honestly, this one surprised me.", "I know, it sounds simple, but it works.", "Trust me, I learned this the hard way."),
        calls=(
            "Save this for later, and tell me in the comments which one you'll try first.",
            "Follow for more, and send this to a friend who needs it.",
            "Which one surprised you? Let me know below.",
            "If this helped, follow along. There's more on {topic} coming.",
        ),
        caption_tails=("Which one are you trying first? 💛", "Tell me how it goes 🙌", "Saving this for later? Good call ✨"),
    ),
)
DEFAULT_TONE = "friendly"
