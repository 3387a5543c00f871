"""Speech text normalisation for English TTS.

Scripts for social media are written to be read ("$2.5k", "7:30am", "#MondayMotivation",
"🔥") but the voice must say them ("two point five thousand dollars", "seven thirty eh
M", "hashtag monday motivation", nothing). Captions keep the written form, so the
result is a list of tokens, one per written word, each carrying both forms:

    >>> tokens = normalize_for_speech("Dr. Lee saw 3 cats at 7:30pm 🔥 #Blessed")
    >>> [t.spoken for t in tokens]
    ['doctor', 'Lee', 'saw', 'three', 'cats', 'at', 'seven thirty P M', '', 'hashtag blessed']
    >>> spoken_text(tokens)
    'doctor Lee saw three cats at seven thirty P M hashtag blessed'

Words are split on whitespace; punctuation stays attached to the written word exactly
as typed. Spoken forms are plain words separated by single spaces: no punctuation, no
hyphens (``42`` -> ``forty two``), so they can be matched word by word against the
engine's output. ``spoken_text`` re-adds the sentence punctuation (``.,!?;:``) of the
written words so the TTS keeps its prosody.

Markup (never shown in captions; markup tokens have ``written == ""``):

``[pause]``, ``[pause 0.8s]``, ``[pause 800ms]``
    A silence after the previous word: a token with ``written == spoken == ""`` and
    ``pause_after_s`` set (default ``default_pause_s`` = 0.5 s, clamped to 0-10 s).
    ``spoken_text`` ignores pauses; ``speech_segments`` splits the text at them.
``*word*``, ``**word**``, ``*several words*``
    Emphasis: each word inside gets ``emphasis=True``; the asterisks are dropped from
    ``written``. A lone ``*`` or one inside a word (``5*3``) is not markup.

Rules where English is ambiguous (the choices are deliberate; see the tests):

* Spelled letters are upper case and space separated (``AI`` -> ``A I``), except that
  the letter A is written ``eh``: espeak-ng (Piper's phonemizer) reads a lone "A"
  followed by another word as the article "uh", so ``AI`` -> ``eh I``, ``10am`` ->
  ``ten eh M``, ``DIY`` -> ``D I Y``.
* Years: a bare 4-digit number from 1100 to 2099 is read as a year (``1999`` ->
  ``nineteen ninety nine``, ``2024`` -> ``twenty twenty four``, ``2005`` -> ``two
  thousand five``) unless the next word is a unit, currency or count noun (``2000
  steps``, ``1500 dollars``, ``1200 kcal``) or it carries a sign, commas or decimals.
* Dates: ISO ``2024-03-05`` -> ``March fifth twenty twenty four``; ``March 5`` ->
  ``March fifth``; ``5 March`` -> ``fifth of March``; ``5/3/2024`` follows
  ``date_order`` (default month/day/year, the voice is US English). Two numbers with a
  slash are never guessed to be a date: simple fractions (denominator 2-10, numerator
  smaller) are read as fractions (``1/2`` -> ``one half``), a few idioms as said
  (``24/7`` -> ``twenty four seven``), anything else as ``five slash three``.
* Times: ``7:30`` -> ``seven thirty``, ``7:05am`` -> ``seven oh five eh M``, ``12:00``
  -> ``twelve o'clock`` (``o'clock`` only without am/pm), ``10am`` / ``10 am`` ->
  ``ten eh M``. A number:number that is not a clock time is a ratio (``3:1`` -> ``three
  to one``).
* Money: ``$5`` -> ``five dollars``, ``$1`` -> ``one dollar``, ``$3.50`` -> ``three
  dollars fifty``, ``$0.99`` -> ``ninety nine cents``, ``$2.5`` -> ``two point five
  dollars``, ``$2.5k`` / ``$1M`` / ``$3B`` -> ``... thousand/million/billion dollars``,
  ``$5 million`` -> ``five`` + ``million dollars``. Also ``€`` euros, ``£`` pounds (and
  pence), ``¥`` yen, ``₹`` rupees, and amounts written after the number (``20€``).
* Number suffixes without a currency: ``10k`` -> ``ten K`` (as people say it), ``1M``
  / ``2B`` -> ``one million`` / ``two billion``; a lower-case ``m`` is million before a
  count noun (``5m views``) and metres otherwise (``100m sprint``); ``3x`` -> ``three
  times``; units attached or separate (``5km``, ``5 km``) are spelled out, singular
  only for exactly 1.
* Ranges: ``10-15`` -> ``ten to fifteen``; a currency or suffix on one side applies to
  the whole range (``$10-20`` -> ``ten to twenty dollars``, ``10-15%`` -> ``ten to
  fifteen percent``). Three or more dash-joined digit groups (phone numbers) are read
  digit by digit.
* Abbreviations: titles (Dr., Mr., Mrs., Ms., Mx., Prof.) never end a sentence; e.g.,
  i.e., vs., approx., aka, incl., "No. 5" are inline; etc., Jr., Sr., a.m./p.m. and
  dotted initials (U.S.) end a sentence only when the next word starts with a capital
  letter or there is none. Unknown ALL-CAPS words are left as they are (shouting or a
  word-like acronym such as NASA); only ``KNOWN_ACRONYMS`` (plus ``acronyms=``) are
  spelled. Plural or possessive acronyms get ``'s`` (``CEOs`` -> ``C E O's``).
* Emojis (pictographs, dingbats, flags, keycaps, skin tones, ZWJ sequences,
  variation selectors, other symbol characters) are silent. A word made only of emojis
  has ``spoken == ""``; its punctuation moves to the previous spoken word.
* Hashtags, handles: CamelCase, underscores and digits split the name into words, read
  in lower case; upper-case runs are spelled when they are known acronyms or have no
  vowel (``#OOTD`` -> ``O O T D``). ``#1`` -> ``number one``.
* URLs and e-mails: only the host is read (``https://example.com/x`` -> ``example dot
  com``, ``www.foo.io`` -> ``foo dot io``); bare domains need a common TLD. E-mail
  ``john.doe@mail.com`` -> ``john dot doe at mail dot com``; one-letter parts are
  spelled (``a@b.com`` -> ``eh at B dot com``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "KNOWN_ACRONYMS",
    "SpokenToken",
    "normalize_for_speech",
    "number_to_words",
    "ordinal_to_words",
    "speech_segments",
    "spoken_pieces",
    "spoken_text",
    "year_to_words",
]


@dataclass(frozen=True)
class SpokenToken:
    """One written word (shown in captions) and what the voice says for it.

    ``written`` is exactly as typed, punctuation included ("" for markup tokens);
    ``spoken`` is zero or more plain words ("" when nothing is said).
    """

    written: str
    spoken: str
    pause_after_s: float = 0.0
    emphasis: bool = False


# --------------------------------------------------------------------------- numbers

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand"))
_IRREGULAR_ORDINALS = {
    "zero": "zeroth", "one": "first", "two": "second", "three": "third", "five": "fifth",
    "eight": "eighth", "nine": "ninth", "twelve": "twelfth",
}
# Beyond trillions nobody says the number; digits are clearer (IDs, big codes).
_MAX_SPOKEN_INT = 10**15


def number_to_words(n: int) -> str:
    """Cardinal words without hyphens or "and": 1250 -> "one thousand two hundred fifty"."""
    if n < 0:
        return "minus " + number_to_words(-n)
    if n >= _MAX_SPOKEN_INT:
        return _digits_to_words(str(n))
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (" " + _ONES[ones] if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return _ONES[hundreds] + " hundred" + (" " + number_to_words(rest) if rest else "")
    for value, name in _SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            return number_to_words(head) + " " + name + (" " + number_to_words(rest) if rest else "")
    raise AssertionError("unreachable")


def ordinal_to_words(n: int) -> str:
    """Ordinal words: 22 -> "twenty second", 100 -> "one hundredth"."""
    words = number_to_words(n).split(" ")
    last = words[-1]
    if last in _IRREGULAR_ORDINALS:
        words[-1] = _IRREGULAR_ORDINALS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def year_to_words(year: int) -> str:
    """A year as said: 1999 -> "nineteen ninety nine", 2005 -> "two thousand five",
    1905 -> "nineteen oh five", 1900 -> "nineteen hundred"."""
    if not 1000 <= year <= 9999:
        return number_to_words(year)
    century, rest = divmod(year, 100)
    if year % 1000 == 0 or (2000 <= year <= 2009):
        return number_to_words(year)  # "two thousand", "two thousand five"
    if rest == 0:
        return number_to_words(century) + " hundred"
    if rest < 10:
        return number_to_words(century) + " oh " + _ONES[rest]
    return number_to_words(century) + " " + number_to_words(rest)


def _digits_to_words(digits: str) -> str:
    """Digit by digit: "042" -> "zero four two"."""
    return " ".join(_ONES[int(d)] for d in digits if d.isdecimal())


def _int_words(digits: str) -> str:
    """An integer string; leading zeros ("007") are read digit by digit as codes are."""
    digits = digits.replace(",", "")
    if len(digits) > 1 and digits[0] == "0":
        return _digits_to_words(digits)
    return number_to_words(int(digits))


def _plural_number_words(words: str) -> str:
    """"nineteen ninety" -> "nineteen nineties" (decades)."""
    head, _, last = words.rpartition(" ")
    if last.endswith("y"):
        last = last[:-1] + "ies"
    elif last == "six":
        last = "sixes"
    else:
        last += "s"
    return f"{head} {last}".strip()


# A number as typed: grouped with commas ("1,250") or plain, optional decimals.
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"
_SIGN_WORDS = {"-": "minus", "−": "minus", "+": "plus", "~": "about", "≈": "about"}


def _num_words(num: str) -> str:
    """Words for a _NUM string (no sign): "3.5" -> "three point five"."""
    whole, _, frac = num.partition(".")
    parts = []
    if whole:
        parts.append(_int_words(whole))
    if frac:
        parts.append("point " + _digits_to_words(frac))
    return " ".join(parts)


def _signed(sign: str, words: str) -> str:
    """Prefix the words of a sign ("-" -> "minus", "~" -> "about")."""
    return f"{_SIGN_WORDS[sign]} {words}" if sign else words


# --------------------------------------------------------------------------- tables

_LETTER_NAMES = {chr(c): chr(c) for c in range(ord("A"), ord("Z") + 1)}
_LETTER_NAMES["A"] = "eh"  # espeak-ng reads "A" before a word as the article "uh"


def _spell(letters: str) -> str:
    """Letter names, space separated: "DIY" -> "D I Y"."""
    return " ".join(_LETTER_NAMES.get(ch.upper(), ch) for ch in letters if ch.isalnum())


# Letter acronyms that are spelled when said. Word-like ones (NASA, NATO, SCUBA) are
# deliberately absent: the voice reads them as words, like any unknown ALL-CAPS word.
KNOWN_ACRONYMS = frozenset(
    """AI TV DIY CEO CFO CTO COO USA US UK EU UN FBI CIA NBA NFL NHL MLB BBC CNN HBO DJ DM PR
    HR PC PDF URL API SEO ROI KPI CTA UX UI VR AR XR GPU CPU ID DNA RNA BBQ ATM MVP GPS SUV
    USB HTML CSS LED LCD NYC LA SF DC BMW FAQ FYI OMG LOL ASMR GRWM OOTD POV IRL TBT IG YT
    ETA IQ MBA SMS RSVP MRI ER ICU VIP CV QR NFT IPO ETF VPN AC HD NPC EV AMA TIL PSA PS
    LGBTQ ASAP HIIT BFF DMV CPR UV SPF TLDR""".split()
)
# Said as words, not letters.
_WORD_ACRONYMS = {"OK": "okay"}
_MIXED_CASE = {"PhD": "P H D", "PhDs": "P H D's"}

# Titles before a name: their dot never ends a sentence.
_TITLES = {"Dr": "doctor", "Mr": "mister", "Mrs": "missus", "Ms": "miz", "Mx": "mix", "Prof": "professor"}
# key: the abbreviation lower-cased without dots -> (spoken, needs a dot, dot kind).
# "inline" dots never end a sentence; "ambiguous" ones do before a capital / at the end.
_ABBREVIATIONS = {
    "eg": ("for example", True, "inline"),
    "ie": ("that is", True, "inline"),
    "vs": ("versus", False, "inline"),
    "approx": ("approximately", False, "inline"),
    "aka": ("also known as", False, "inline"),
    "incl": ("including", True, "inline"),
    "etc": ("et cetera", False, "ambiguous"),
    "jr": ("junior", True, "ambiguous"),
    "sr": ("senior", True, "ambiguous"),
    "btw": ("by the way", False, None),
    "imo": ("in my opinion", False, None),
    "imho": ("in my humble opinion", False, None),
    "tbh": ("to be honest", False, None),
    "idk": ("I don't know", False, None),
}
_SYMBOL_WORDS = {
    "&": "and", "+": "plus", "=": "equals", "@": "at", "%": "percent", "×": "times",
    "w/": "with", "w/o": "without",
}
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_MONTH_ABBREVIATIONS = {
    "Jan": "January", "Feb": "February", "Mar": "March", "Apr": "April", "Jun": "June",
    "Jul": "July", "Aug": "August", "Sep": "September", "Sept": "September",
    "Oct": "October", "Nov": "November", "Dec": "December",
}
_MONTH_NAMES = {m: m for m in _MONTHS} | _MONTH_ABBREVIATIONS

_CURRENCIES = {  # symbol -> singular, plural, minor singular, minor plural
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "", ""),
    "₹": ("rupee", "rupees", "paisa", "paise"),
}
_CURRENCY_SYMBOLS = "".join(_CURRENCIES)
_MULTIPLIERS = {"k": "thousand", "m": "million", "b": "billion", "bn": "billion", "t": "trillion", "tn": "trillion"}
_SCALE_WORDS = frozenset({"hundred", "thousand", "million", "billion", "trillion"})

# unit -> (singular, plural). Matched case-sensitively first, then lower-cased.
_UNITS = {
    "km": ("kilometer", "kilometers"), "m": ("meter", "meters"), "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"), "mi": ("mile", "miles"), "ft": ("foot", "feet"),
    "kg": ("kilogram", "kilograms"), "g": ("gram", "grams"), "mg": ("milligram", "milligrams"),
    "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"), "oz": ("ounce", "ounces"),
    "ml": ("milliliter", "milliliters"), "l": ("liter", "liters"), "L": ("liter", "liters"),
    "cal": ("calorie", "calories"), "kcal": ("kilocalorie", "kilocalories"),
    "min": ("minute", "minutes"), "mins": ("minute", "minutes"), "h": ("hour", "hours"),
    "hr": ("hour", "hours"), "hrs": ("hour", "hours"), "sec": ("second", "seconds"),
    "secs": ("second", "seconds"), "s": ("second", "seconds"), "ms": ("millisecond", "milliseconds"),
    "wk": ("week", "weeks"), "wks": ("week", "weeks"), "yr": ("year", "years"), "yrs": ("year", "years"),
    "mph": ("mile per hour", "miles per hour"), "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"), "fps": ("frame per second", "frames per second"),
    "GB": ("gigabyte", "gigabytes"), "MB": ("megabyte", "megabytes"), "TB": ("terabyte", "terabytes"),
    "°": ("degree", "degrees"), "°C": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
}
# Written alone after a number these are normal words, not units ("5 in a row").
_NOT_STANDALONE_UNITS = frozenset({"in", "s"})
# Nouns that say "this number is a count, not a year / metres".
_COUNT_NOUNS = frozenset(
    """views followers likes subscribers subs users people downloads streams plays impressions
    fans members customers copies sales steps words times points reps items pieces products
    students votes comments shares calories miles meters kilometers hours minutes seconds days
    weeks months years dollars euros pounds bucks cents yen rupees percent""".split()
)
_NOT_YEAR_NEXT = _COUNT_NOUNS | {u.lower() for u in _UNITS} | _SCALE_WORDS | {"%", "x"}

# Fractions (denominator 2-10) and slash idioms said without "slash".
_DENOMINATORS = {2: ("half", "halves"), 3: ("third", "thirds"), 4: ("quarter", "quarters")}
_SLASH_IDIOMS = {"24/7": "twenty four seven", "50/50": "fifty fifty", "9/11": "nine eleven"}

# Top-level domains accepted for bare domains ("shop.com"); with a scheme or "www."
# any host is a URL.
_TLDS = (
    "com|org|net|io|co|ai|app|dev|tv|me|ly|gg|xyz|shop|store|uk|us|de|fr|es|ca|au|nl|eu|"
    "edu|gov|info|biz|link|site|online|blog|fm|so|to|sh|page|live|news|tech"
)

# ------------------------------------------------------------------------- patterns

_PAUSE_BODY = r"\s*pause(?:\s*[:=]?\s*(?:\d+(?:\.\d*)?|\.\d+)\s*(?:ms|s|secs?|seconds?)?)?\s*\]"
_CHUNK_RE = re.compile(
    rf"(?P<pause>\[\s*pause(?:\s*[:=]?\s*(?P<value>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>ms|s|secs?|seconds?)?)?\s*\])"
    rf"|(?P<word>(?:[^\s\[]|\[(?!{_PAUSE_BODY}))+)",
    re.IGNORECASE,
)
# Emphasis: * or ** hugging non-space text, not inside a word (5*3) and not a lone *.
# The span may not contain another "*", which also keeps the search linear.
_EMPHASIS_RE = re.compile(r"(?<![\w*])(\*{1,2})(?=[^\s*])([^\n*]*?[^\s*])\1(?![\w*])")
_MAX_PAUSE_S = 10.0

_LEAD_CHARS = frozenset("\"'“‘«‹([{¿¡")
_TRAIL_CHARS = frozenset(".,!?;:\"'”’»›)]}…")
_SENTENCE_PUNCT = frozenset(".,!?;:")
_DASHES = frozenset("-–—")

_KEYCAP_RE = re.compile("[0-9#*]\ufe0f?\u20e3")
_URL_RE = re.compile(r"^(?:https?://|www\.)[^\s/?#]+.*$", re.IGNORECASE)
_DOMAIN_RE = re.compile(rf"^(?:[a-z0-9-]+\.)+(?:{_TLDS})(?:/\S*)?$", re.IGNORECASE)
_EMAIL_RE = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")
_HANDLE_RE = re.compile(r"^@\w+$")
_HASHTAG_RE = re.compile(r"^#\w*[^\W\d]\w*$")
_NUMBER_SIGN_RE = re.compile(r"^#(\d+)$")
_DOTTED_RE = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$")
_AMPM_END_RE = re.compile(r"[ap]\.m$", re.IGNORECASE)
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?:\s?([ap])\.?m\.?)?$", re.IGNORECASE)
_HOUR_AMPM_RE = re.compile(r"^(\d{1,2})([ap])\.?m\.?$", re.IGNORECASE)
_HMS_RE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})$")
_RATIO_RE = re.compile(r"^(\d+):(\d+)$")
_ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_YEAR_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_SLASH_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})$")
_SLASH_PAIR_RE = re.compile(r"^(\d+)/(\d+)$")
_DIGIT_GROUPS_RE = re.compile(r"^\d+(?:[-.]\d+){2,}$")
_RANGE_RE = re.compile(rf"^([{_CURRENCY_SYMBOLS}]?\d[^-–]*)[-–]([{_CURRENCY_SYMBOLS}]?\d[^-–]*)$")
_AMOUNT_RE = re.compile(rf"^([{_CURRENCY_SYMBOLS}]?)({_NUM})(.*)$")
_CURRENCY_RE = re.compile(rf"^([-+−~]?)([{_CURRENCY_SYMBOLS}])({_NUM})(k|m|b|bn|t|tn)?$", re.IGNORECASE)
_CURRENCY_AFTER_RE = re.compile(rf"^([-+−~]?)({_NUM})(k|m|b|bn|t|tn)?([{_CURRENCY_SYMBOLS}])$", re.IGNORECASE)
_PERCENT_RE = re.compile(rf"^([-+−~]?)({_NUM})%$")
_ORDINAL_RE = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)(st|nd|rd|th)$", re.IGNORECASE)
_DECADE_RE = re.compile(r"^'?(\d{2}|\d{4})'?s$")
_SUFFIXED_RE = re.compile(rf"^([-+−~]?)({_NUM})(°?[A-Za-zµ/]+|°)$")
_PLAIN_NUMBER_RE = re.compile(rf"^([-+−~]?)({_NUM})$")
_LONG_DIGITS_RE = re.compile(r"\d{16,}")
_SIMPLE_INT_RE = re.compile(r"^\d{1,2}(?::\d{2})?$")
_COMPOUND_SPLIT_RE = re.compile(r"[A-Z]{2,}(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_]+")
_MIXED_SPLIT_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[^\W\d_]+|\d+")
_INNER_JUNK_RE = re.compile(r"[^\w'’\-]+|_+|(?<![^\W_])['’\-]+|['’\-]+(?![^\W_])")


# --------------------------------------------------------------------------- emojis

def _is_emoji_char(ch: str) -> bool:
    """True for characters that belong to emojis and have no sound."""
    cp = ord(ch)
    if (
        0x1F000 <= cp <= 0x1FAFF  # pictographs, emoticons, transport, flags, skin tones
        or 0x2600 <= cp <= 0x27BF  # misc symbols, dingbats
        or 0x2B00 <= cp <= 0x2BFF  # stars, arrows
        or 0x2300 <= cp <= 0x23FF  # watch, hourglass, media controls
        or 0x2190 <= cp <= 0x21FF  # arrows
        or 0x25A0 <= cp <= 0x25FF  # geometric shapes (▶ ◀)
        or 0xE0020 <= cp <= 0xE007F  # tag characters (subdivision flags)
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors
        or cp in (0x200D, 0x20E3, 0x3030, 0x303D, 0x3297, 0x3299, 0x203C, 0x2049)
    ):
        return True
    # Any other pictographic symbol (©, ™, ♪...) is silent too; the degree sign is read.
    return ch != "°" and unicodedata.category(ch) == "So"


def _strip_emoji(text: str) -> str:
    if text.isascii():  # the common case: nothing to do, and cheap to check
        return text
    text = _KEYCAP_RE.sub("", text)  # 1️⃣ is an emoji, not the digit one
    return "".join(ch for ch in text if not _is_emoji_char(ch))


# ---------------------------------------------------------------------- word parts

def _parts(written: str) -> tuple[str, str, str]:
    """(leading punctuation, core, trailing punctuation) of a written word, emojis removed."""
    text = _strip_emoji(written)
    start, end = 0, len(text)
    while start < end and text[start] in _LEAD_CHARS:
        start += 1
    while end > start and text[end - 1] in _TRAIL_CHARS:
        end -= 1
    return text[:start], text[start:end], text[end:]


def _is_number(core: str) -> bool:
    """True for a plain (optionally signed) number such as "5", "-2.5" or "1,250"."""
    return bool(_PLAIN_NUMBER_RE.match(core))


def _dot_kind(core: str, next_core: str) -> str | None:
    """How a trailing dot after ``core`` behaves if ``core`` is an abbreviation:
    "inline" (never ends a sentence), "ambiguous" (ends one before a capital or at the
    end), or None (not an abbreviation: the dot is sentence punctuation)."""
    if core in _TITLES:
        return "inline"
    if core in ("No", "no") and _is_number(next_core):
        return "inline"
    entry = _ABBREVIATIONS.get(core.replace(".", "").lower())
    if entry is not None:
        return entry[2]
    if _DOTTED_RE.match(core) or _AMPM_END_RE.search(core) or core in _MONTH_ABBREVIATIONS:
        return "ambiguous"
    return None


def _sentence_punct(written: str, next_written: str | None) -> str:
    """The sentence punctuation the voice should hear after ``written``."""
    _, core, trail = _parts(written)
    if core and set(core) <= _DASHES:
        return ","  # a dash between words is a short break
    if trail.startswith(".") and not trail.startswith("..."):
        next_core = _parts(next_written)[1] if next_written else ""
        kind = _dot_kind(core, next_core)
        if kind == "inline" or (kind == "ambiguous" and next_core and not next_core[0].isupper()):
            trail = trail[1:]  # the dot belongs to the abbreviation
    return "".join("..." if ch == "…" else ch for ch in trail if ch in _SENTENCE_PUNCT or ch == "…")


# ------------------------------------------------------------------------ speaking

def _split_name(name: str, acronyms: frozenset[str]) -> list[str]:
    """Words of a hashtag / handle name: "AIArt_2024" -> ["eh I", "art", "twenty twenty four"]."""
    words = []
    for piece in _COMPOUND_SPLIT_RE.findall(name):
        if piece.isdecimal():
            words.append(_number_or_year(piece))
        elif piece.isupper() and len(piece) > 1 and (piece in acronyms or not set(piece) & set("AEIOUY")):
            words.append(_spell(piece))
        elif len(piece) == 1 and piece.isalpha():
            words.append(_spell(piece))
        else:
            words.append(piece.lower())
    return words


def _number_or_year(digits: str) -> str:
    """Digits inside a name ("#2024Goals"): the year rule without the context check."""
    if len(digits) == 4 and 1100 <= int(digits) <= 2099:
        return year_to_words(int(digits))
    return _int_words(digits)


def _host_words(host: str) -> str:
    """"www.my-site.co.uk" -> "my dash site dot co dot uk"."""
    host = host.lower()
    if host.startswith("www."):
        host = host[4:]
    labels = []
    for label in host.split("."):
        if not label:
            continue
        pieces = []
        for part in label.split("-"):
            if len(part) == 1 and part.isalpha():
                pieces.append(_spell(part))
            elif part:
                pieces.append(" ".join(_mixed_words(part, frozenset())))
        labels.append(" dash ".join(p for p in pieces if p))
    return " dot ".join(labels)


def _mixed_words(text: str, acronyms: frozenset[str]) -> list[str]:
    """Letters and digits run together ("MP3", "B2B", "4K", "iPhone15")."""
    words = []
    for piece in _MIXED_SPLIT_RE.findall(text):
        if piece.isdecimal():  # "²" is a digit but no decimal: int() refuses it
            words.append(_int_words(piece))
        elif piece.isupper() and (len(piece) <= 3 or piece in acronyms):
            words.append(_spell(piece))
        else:
            words.append(piece)
    return words


def _money(sign: str, symbol: str, num: str, multiplier: str) -> str:
    """"$3.50" -> "three dollars fifty"; "$2.5k" -> "two point five thousand dollars"."""
    one, many, minor_one, minor_many = _CURRENCIES[symbol]
    if multiplier:
        return _signed(sign, f"{_num_words(num)} {_MULTIPLIERS[multiplier.lower()]} {many}")
    whole, _, frac = num.replace(",", "").partition(".")
    major = int(whole) if whole else 0
    if not frac:
        return _signed(sign, f"{_int_words(whole)} {one if major == 1 else many}")
    if len(frac) == 2 and minor_many:
        minor = int(frac)
        if major == 0 and minor:
            return _signed(sign, f"{number_to_words(minor)} {minor_one if minor == 1 else minor_many}")
        head = f"{_int_words(whole or '0')} {one if major == 1 else many}"
        return _signed(sign, head + (f" {number_to_words(minor)}" if minor else ""))
    return _signed(sign, f"{_num_words(num)} {many}")


def _unit_words(unit: str, singular: bool) -> str | None:
    """"km" -> "kilometers" (or "kilometer"), None for anything that is not a unit."""
    entry = _UNITS.get(unit)
    if entry is None and not unit.isupper():  # "5G" is a network, not grams
        entry = _UNITS.get(unit.lower())
    if entry is None:
        return None
    return entry[0] if singular else entry[1]


def _is_one(sign: str, num: str) -> bool:
    """Only exactly (minus) one takes a singular unit: "1 km" but "1.0 kilometers"."""
    return num == "1" and sign in ("", "-", "−")


def _time(hour: int, minute: int, ampm: str | None) -> str | None:
    """Clock time words, or None when the numbers cannot be a time."""
    if minute > 59 or hour > 24 or (ampm and not 1 <= hour <= 12):
        return None
    words = number_to_words(hour)
    if minute == 0:
        words += "" if ampm else " o'clock"
    elif minute < 10:
        words += " oh " + _ONES[minute]
    else:
        words += " " + number_to_words(minute)
    if ampm:
        words += " " + _spell(ampm + "m")
    return words


def _date(year: str, month: int, day: int) -> str | None:
    """"March fifth twenty twenty four", or None for an impossible month or day."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if len(year) == 2:
        year_words = "oh " + _ONES[int(year)] if year[0] == "0" else number_to_words(int(year))
    else:
        year_words = year_to_words(int(year))
    return f"{_MONTHS[month - 1]} {ordinal_to_words(day)} {year_words}"


def _fraction(numerator: int, denominator: int) -> str:
    """"one half", "two thirds", "three quarters", "seven eighths"."""
    one, many = _DENOMINATORS.get(denominator, (ordinal_to_words(denominator), ordinal_to_words(denominator) + "s"))
    return f"{number_to_words(numerator)} {one if numerator == 1 else many}"


class _Speaker:
    """Spoken forms for a sequence of written words; neighbours give context."""

    def __init__(self, cores: Sequence[str], trails: Sequence[str], options: dict) -> None:
        """``cores``/``trails``: each word's text and trailing punctuation (see _parts)."""
        self.cores = cores
        self.trails = trails
        self.hashtags = options["hashtags"]
        self.handles = options["handles"]
        self.urls = options["urls"]
        self.date_order = options["date_order"]
        self.acronyms: frozenset[str] = options["acronyms"]
        # Words owed to a later token: "$5 million" says "dollars" after "million".
        self.carry: dict[int, str] = {}

    def word(self, i: int) -> str:
        """The spoken form of word ``i``, using its neighbours as context."""
        core = self.cores[i]
        prev = self.cores[i - 1] if i > 0 else ""
        nxt = self.cores[i + 1] if i + 1 < len(self.cores) else ""
        spoken = self.speak(core, prev, nxt, i, self.trails[i].startswith("."))
        if i in self.carry:
            spoken = f"{spoken} {self.carry.pop(i)}".strip()
        return " ".join(spoken.split())

    def speak(self, core: str, prev: str, nxt: str, i: int | None = None, dot: bool = False) -> str:
        """Spoken form of one word core (punctuation already split off).

        ``prev``/``nxt`` are the neighbouring cores ("" if none), ``i`` the word index
        (None for parts of a word), ``dot`` whether a "." followed the core. The order
        of the checks matters: the most specific shapes are tried first.
        """
        if not core:
            return ""
        if core in _SYMBOL_WORDS:
            return _SYMBOL_WORDS[core]
        if not any(ch.isalnum() for ch in core):
            if core == "*" and _is_number(prev) and _is_number(nxt):
                return "times"
            return ""
        if core[0].isdigit() or core[0] in _CURRENCY_SYMBOLS or (len(core) > 1 and core[0] in "-+−~.≈"):
            spoken = self.numeric(core, prev, nxt, i)
            if spoken is not None:
                return spoken
        return self.wordlike(core, prev, nxt, dot)

    def numeric(self, core: str, prev: str, nxt: str, i: int | None) -> str | None:
        """Numbers in all their written shapes; None if ``core`` is none of them."""
        nxt_lower = nxt.lower()
        if _LONG_DIGITS_RE.search(core):
            # IDs, card numbers, keyboard mashing: digit by digit (and no huge ints).
            return " ".join(_digits_to_words(p) if p.isdecimal() else p for p in _MIXED_SPLIT_RE.findall(core))
        if core[0] in "~≈" and len(core) > 1:
            rest = self.numeric(core[1:], prev, nxt, i)
            return None if rest is None else "about " + rest
        if m := _TIME_RE.match(core):
            spoken = _time(int(m[1]), int(m[2]), m[3] and m[3].lower())
            if spoken:
                return spoken
        if m := _HOUR_AMPM_RE.match(core):
            spoken = _time(int(m[1]), 0, m[2].lower())
            if spoken:
                return spoken
        if m := _HMS_RE.match(core):
            minutes, seconds = int(m[2]), int(m[3])
            if minutes < 60 and seconds < 60:
                parts = [number_to_words(int(m[1]))]
                for value in (minutes, seconds):
                    parts.append(("oh " + _ONES[value]) if value < 10 else number_to_words(value))
                return " ".join(parts)
        if m := _RATIO_RE.match(core):
            return f"{_int_words(m[1])} to {_int_words(m[2])}"
        if m := _ISO_DATE_RE.match(core):
            spoken = _date(m[1], int(m[2]), int(m[3]))
            if spoken:
                return spoken
        if (m := _YEAR_MONTH_RE.match(core)) and 1 <= int(m[2]) <= 12 and 1100 <= int(m[1]) <= 2099:
            return f"{_MONTHS[int(m[2]) - 1]} {year_to_words(int(m[1]))}"  # ISO "2024-03"
        if m := _SLASH_DATE_RE.match(core):
            first, second = int(m[1]), int(m[2])
            month, day = (first, second) if self.date_order == "mdy" else (second, first)
            spoken = _date(m[3], month, day)
            if spoken:
                return spoken
        if m := _SLASH_PAIR_RE.match(core):
            if core in _SLASH_IDIOMS:
                return _SLASH_IDIOMS[core]
            top, bottom = int(m[1]), int(m[2])
            if 2 <= bottom <= 10 and 0 < top < bottom:
                return _fraction(top, bottom)
            return f"{_int_words(m[1])} slash {_int_words(m[2])}"
        if _DIGIT_GROUPS_RE.match(core):
            # Phone numbers and codes: digit by digit, group by group.
            return " ".join(_digits_to_words(group) for group in re.split(r"[-.]", core))
        if m := _RANGE_RE.match(core):
            spoken = self.range(m[1], m[2], nxt)
            if spoken:
                return spoken
        if m := _CURRENCY_RE.match(core) or _CURRENCY_AFTER_RE.match(core):
            if m.re is _CURRENCY_RE:
                sign, symbol, num, multiplier = m[1], m[2], m[3], m[4] or ""
            else:
                sign, num, multiplier, symbol = m[1], m[2], m[3] or "", m[4]
            if not multiplier and nxt_lower in _SCALE_WORDS - {"hundred"} and i is not None:
                # "$5 million": the currency word is said after the scale word.
                self.carry[i + 1] = _CURRENCIES[symbol][1]
                return _signed(sign, _num_words(num))
            return _money(sign, symbol, num, multiplier)
        if m := _PERCENT_RE.match(core):
            return _signed(m[1], _num_words(m[2]) + " percent")
        if m := _ORDINAL_RE.match(core):
            return ordinal_to_words(int(m[1].replace(",", "")))
        if m := _DECADE_RE.match(core):
            value = int(m[1])
            if value % 10 == 0:
                words = year_to_words(value) if len(m[1]) == 4 else number_to_words(value)
                return _plural_number_words(words)
        if m := _SUFFIXED_RE.match(core):
            spoken = self.suffixed(m[1], m[2], m[3], nxt_lower)
            if spoken:
                return spoken
        if m := _PLAIN_NUMBER_RE.match(core):
            sign, num = m[1], m[2]
            if not sign and num.isdecimal():
                value = int(num)
                if prev in _MONTH_NAMES and 1 <= value <= 31:
                    return ordinal_to_words(value)  # "March 5"
                if nxt in _MONTH_NAMES and 1 <= value <= 31:
                    return ordinal_to_words(value) + " of"  # "5 March"
                if len(num) == 4 and 1100 <= value <= 2099 and nxt_lower not in _NOT_YEAR_NEXT:
                    return year_to_words(value)
            return _signed(sign, _num_words(num))
        return None

    def range(self, left: str, right: str, nxt: str) -> str | None:
        """"$10-20" -> "ten to twenty dollars"; None unless both sides are numbers."""
        lm, rm = _AMOUNT_RE.match(left), _AMOUNT_RE.match(right)
        if not lm or not rm:
            return None
        left_currency, left_num, left_suffix = lm.groups()
        right_currency, _, right_suffix = rm.groups()
        if left_currency and not right_currency:
            right = left_currency + right  # "$10-20": the currency covers the range
            right_currency = left_currency
        if right_currency or (right_suffix and not left_suffix):
            # The unit is said once, after the right side: "ten to twenty dollars".
            left_words = _num_words(left_num)
            multiplier = _MULTIPLIERS.get(left_suffix.lower())
            if multiplier and right_currency:
                left_words += " " + multiplier
            elif left_suffix:
                return None
        else:
            left_words = self.numeric(left, "", "", None)
        right_words = self.numeric(right, "", nxt, None)
        if not left_words or not right_words:
            return None
        return f"{left_words} to {right_words}"

    def suffixed(self, sign: str, num: str, suffix: str, nxt_lower: str) -> str | None:
        """A number with letters attached: "10k", "1M", "3x", "5km", "20°C"."""
        words = _num_words(num)
        if suffix in ("k", "K"):
            return _signed(sign, words + " K")  # "10k followers" is said "ten K"
        if suffix in ("M", "B", "b", "bn", "Bn", "BN") or (suffix == "m" and nxt_lower in _COUNT_NOUNS):
            return _signed(sign, f"{words} {_MULTIPLIERS[suffix.lower()]}")
        if suffix in ("x", "X"):
            return _signed(sign, words + " times")
        unit = _unit_words(suffix, _is_one(sign, num))
        if unit:
            return _signed(sign, f"{words} {unit}")
        return None

    def wordlike(self, core: str, prev: str, nxt: str, dot: bool) -> str:
        """Everything that does not start as a number."""
        if _URL_RE.match(core) or (_DOMAIN_RE.match(core) and "@" not in core):
            if self.urls == "skip":
                return ""
            rest = re.sub(r"^https?://", "", core, flags=re.IGNORECASE)
            return _host_words(re.split(r"[/?#:]", rest, maxsplit=1)[0])
        if _EMAIL_RE.match(core):
            local, _, host = core.partition("@")
            return self.email_local(local) + " at " + _host_words(host)
        if _HANDLE_RE.match(core):
            return "" if self.handles == "skip" else "at " + " ".join(_split_name(core[1:], self.acronyms))
        if m := _NUMBER_SIGN_RE.match(core):
            return "number " + _int_words(m[1])
        if _HASHTAG_RE.match(core):
            if self.hashtags == "skip":
                return ""
            words = " ".join(_split_name(core[1:], self.acronyms))
            return words if self.hashtags == "words" else "hashtag " + words
        if core in _TITLES:
            return _TITLES[core]
        if core in ("No", "no") and dot and _is_number(nxt):
            return "number"
        entry = _ABBREVIATIONS.get(core.replace(".", "").lower())
        if entry is not None and (dot or "." in core or not entry[1]):
            return entry[0]
        if core in _MONTH_ABBREVIATIONS and (dot or _is_number(nxt)):
            return _MONTH_ABBREVIATIONS[core]
        if core.lower() in ("am", "pm", "a.m", "p.m") and _SIMPLE_INT_RE.match(prev):
            return _spell(core)
        if _DOTTED_RE.match(core):
            return _spell(core)  # "U.S." -> "U S"
        if _is_number(prev) and core not in _NOT_STANDALONE_UNITS:
            unit = _unit_words(core, prev in ("1", "-1"))
            if unit:
                return unit
        if core in _MIXED_CASE:
            return _MIXED_CASE[core]
        if core in _WORD_ACRONYMS:
            return _WORD_ACRONYMS[core]
        acronym = self.acronym(core)
        if acronym:
            return acronym
        if "&" in core or "+" in core:
            return self.joined(core)
        if "/" in core and core.count("/") == 1 and all(p.isalpha() for p in core.split("/")):
            first, second = core.split("/")
            return "and or" if core.lower() == "and/or" else f"{first} or {second}"
        if any(ch.isdigit() for ch in core):
            # "COVID-19", "3-in-1", "MP3": parts that are numbers are read as such.
            words = []
            for part in re.split(r"[-_/.]+", core):
                if part and part != core and (part[0].isdigit() or part in self.acronyms):
                    words.append(self.speak(part, "", ""))
                elif part:
                    words.extend(_mixed_words(part, self.acronyms))
            return " ".join(words)
        return _INNER_JUNK_RE.sub(" ", core).strip()

    def acronym(self, core: str) -> str | None:
        """Spelled letters for a known acronym, with 's for plurals / possessives."""
        base, suffix = core, ""
        for ending in ("'s", "’s", "s"):
            if core.endswith(ending) and core[: -len(ending)] in self.acronyms:
                base, suffix = core[: -len(ending)], "'s"
                break
        if base in self.acronyms:
            return _spell(base) + suffix
        return None

    def joined(self, core: str) -> str:
        """"R&D" -> "R and D", "C++" -> "C plus plus", "5+" -> "five plus"."""
        words = []
        for piece in re.split(r"([&+])", core):
            if piece in ("&", "+"):
                words.append(_SYMBOL_WORDS[piece])
            elif piece:
                if piece.isalpha() and piece.isupper() and len(piece) <= 3:
                    words.append(_spell(piece))
                else:
                    words.append(self.speak(piece, "", ""))
        return " ".join(w for w in words if w)

    def email_local(self, local: str) -> str:
        """The part of an e-mail address before the @: "john.doe" -> "john dot doe"."""
        words = []
        for piece in re.split(r"([._+-])", local):
            if piece in (".", "_", "+", "-"):
                words.append({".": "dot", "_": "underscore", "+": "plus", "-": "dash"}[piece])
            elif len(piece) == 1 and piece.isalpha():
                words.append(_spell(piece))
            elif piece:
                words.append(" ".join(_mixed_words(piece.lower(), frozenset())))
        return " ".join(words)


# ------------------------------------------------------------------------- public

def normalize_for_speech(
    text: str,
    *,
    hashtags: Literal["speak", "words", "skip"] = "speak",
    handles: Literal["speak", "skip"] = "speak",
    urls: Literal["speak", "skip"] = "speak",
    date_order: Literal["mdy", "dmy"] = "mdy",
    default_pause_s: float = 0.5,
    acronyms: Iterable[str] = (),
) -> list[SpokenToken]:
    """Split ``text`` into written words and give each its spoken form.

    hashtags: "speak" says "hashtag monday motivation", "words" only "monday
        motivation", "skip" says nothing.
    handles: "speak" says "at sofia daily" for @sofia_daily, "skip" says nothing.
    urls: "speak" says the host ("example dot com"), "skip" says nothing.
    date_order: how d/d/yyyy dates are read: "mdy" (US) or "dmy".
    default_pause_s: length of a bare ``[pause]``.
    acronyms: extra ALL-CAPS words to spell letter by letter, beside KNOWN_ACRONYMS.
    """
    for name, value, allowed in (
        ("hashtags", hashtags, ("speak", "words", "skip")),
        ("handles", handles, ("speak", "skip")),
        ("urls", urls, ("speak", "skip")),
        ("date_order", date_order, ("mdy", "dmy")),
    ):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    if isinstance(acronyms, str):
        raise TypeError("acronyms must be a collection of words, not one string")

    # Emphasis markers are found on the whole text (a span may cover several words);
    # their asterisks are removed from the written words and the words inside flagged.
    markers: set[int] = set()
    emphasised = bytearray(len(text))
    for m in _EMPHASIS_RE.finditer(text):
        width = len(m[1])
        markers.update(range(m.start(), m.start() + width))
        markers.update(range(m.end() - width, m.end()))
        emphasised[m.start(2) : m.end(2)] = b"\x01" * (m.end(2) - m.start(2))

    items: list[tuple[str, float, bool] | None] = []  # (written, pause, emphasis)
    for m in _CHUNK_RE.finditer(text):
        if m["pause"] is not None:
            items.append(("", _pause_length(m["value"], m["unit"], default_pause_s), False))
            continue
        start, end = m.span("word")
        written = m["word"]
        if markers and any(p in markers for p in range(start, end)):
            written = "".join(ch for p, ch in zip(range(start, end), written) if p not in markers)
        if written:
            items.append((written, 0.0, b"\x01" in emphasised[start:end]))

    words = [item for item in items if item[0]]
    parts = [_parts(written) for written, _, _ in words]
    speaker = _Speaker(
        [core for _, core, _ in parts],
        [trail for _, _, trail in parts],
        {
            "hashtags": hashtags, "handles": handles, "urls": urls, "date_order": date_order,
            "acronyms": KNOWN_ACRONYMS | frozenset(acronyms),
        },
    )
    tokens: list[SpokenToken] = []
    index = 0
    for written, pause, emphasis in items:
        if not written:
            tokens.append(SpokenToken(written="", spoken="", pause_after_s=pause))
            continue
        tokens.append(SpokenToken(written=written, spoken=speaker.word(index), emphasis=emphasis))
        index += 1
    return tokens


def _pause_length(value: str | None, unit: str | None, default: float) -> float:
    """Seconds of a [pause ...] markup, clamped so a typo cannot stall the video."""
    if value is None:
        return default
    seconds = float(value) / (1000.0 if unit and unit.lower() == "ms" else 1.0)
    return min(max(seconds, 0.0), _MAX_PAUSE_S)


def spoken_pieces(tokens: Sequence[SpokenToken]) -> list[list]:
    """[token index, spoken words + sentence punctuation] for each token that is said."""
    next_written: list[str | None] = [None] * len(tokens)
    following = None
    for i in range(len(tokens) - 1, -1, -1):  # the next written word, for abbreviation dots
        next_written[i] = following
        if tokens[i].written:
            following = tokens[i].written
    pieces: list[list] = []
    for i, token in enumerate(tokens):
        punct = _sentence_punct(token.written, next_written[i]) if token.written else ""
        if token.spoken:
            pieces.append([i, token.spoken + punct])
        elif punct and pieces and pieces[-1][1][-1] not in _SENTENCE_PUNCT:
            pieces[-1][1] += punct  # "Done 🔥." -> "Done."
    return pieces


def spoken_text(tokens: Iterable[SpokenToken]) -> str:
    """The text to synthesise: non-empty spoken forms joined by spaces, each followed by
    the sentence punctuation (.,!?;:) of its written word. Punctuation of a silent word
    (an emoji at the end of a sentence) moves to the previous spoken word. Pauses are
    not represented; see ``speech_segments``."""
    return " ".join(text for _, text in spoken_pieces(list(tokens)))


def speech_segments(tokens: Iterable[SpokenToken]) -> list[tuple[str, float]]:
    """The spoken text cut at pauses: [(text, silence after it in seconds), ...].

    A synthesiser without pause markup renders each text and then the silence. Pauses
    in a row add up; a pause before any speech gives a segment with empty text. The
    texts joined by spaces equal ``spoken_text(tokens)``.
    """
    tokens = list(tokens)
    pieces = spoken_pieces(tokens)
    segments: list[tuple[str, float]] = []
    current: list[str] = []
    k = 0
    for i, token in enumerate(tokens):
        while k < len(pieces) and pieces[k][0] == i:
            current.append(pieces[k][1])
            k += 1
        if token.pause_after_s <= 0:
            continue
        text = " ".join(current)
        if text or not segments:
            segments.append((text, token.pause_after_s))
        else:
            segments[-1] = (segments[-1][0], segments[-1][1] + token.pause_after_s)
        current = []
    if current:
        segments.append((" ".join(current), 0.0))
    return segments
