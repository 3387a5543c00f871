"""Phones (Piper/espeak IPA or ARPAbet) -> a compact set of mouth shapes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Viseme:
    name: str
    jaw_open: float  # 0 rest .. 1 widest vowel
    lip_width: float  # -1 rounded/protruded .. 1 spread
    lip_close: float  # 1 lips pressed (p/b/m)


VISEMES: dict[str, Viseme] = {
    v.name: v
    for v in (
        Viseme("rest", 0.0, 0.0, 0.0),
        Viseme("closed", 0.0, 0.0, 1.0),  # p b m
        Viseme("lip_teeth", 0.12, 0.15, 0.0),  # f v
        Viseme("dental", 0.22, 0.1, 0.0),  # th
        Viseme("alveolar", 0.25, 0.15, 0.0),  # t d n s z
        Viseme("postalveolar", 0.25, -0.55, 0.0),  # sh ch j zh
        Viseme("lateral", 0.35, 0.1, 0.0),  # l
        Viseme("velar", 0.35, 0.05, 0.0),  # k g ng h
        Viseme("r", 0.25, -0.5, 0.0),  # r
        Viseme("round_close", 0.2, -0.9, 0.0),  # w, u
        Viseme("round_open", 0.6, -0.6, 0.0),  # o, aw
        Viseme("spread", 0.3, 0.8, 0.0),  # i, y
        Viseme("mid", 0.5, 0.35, 0.0),  # e, eh, ih, uh
        Viseme("open", 0.95, 0.2, 0.0),  # a, ah, ae
        Viseme("schwa", 0.35, 0.1, 0.0),  # reduced vowels
    )
}

_IPA: dict[str, str] = {}
for viseme, symbols in {
    "closed": "pbmɱ",
    "lip_teeth": "fv",
    "dental": "θð",
    "alveolar": "tdnszɾʔ",
    "postalveolar": "ʃʒ",
    "lateral": "lɫ",
    "velar": "kgɡŋhxɣç",
    "r": "ɹrɻ",
    "round_close": "wuʊʉɥ",
    "round_open": "oɔɒ",
    "spread": "iɪjy",
    "mid": "eɛʌæɜ",
    "open": "aɑɐ",
    "schwa": "əɚᵻɘ",
}.items():
    for symbol in symbols:
        _IPA[symbol] = viseme

_AFFRICATES = frozenset({"tʃ", "dʒ", "ʧ", "ʤ"})

_ARPABET: dict[str, str] = {
    "P": "closed", "B": "closed", "M": "closed",
    "F": "lip_teeth", "V": "lip_teeth",
    "TH": "dental", "DH": "dental",
    "T": "alveolar", "D": "alveolar", "N": "alveolar", "S": "alveolar", "Z": "alveolar",
    "SH": "postalveolar", "ZH": "postalveolar", "CH": "postalveolar", "JH": "postalveolar",
    "L": "lateral",
    "K": "velar", "G": "velar", "NG": "velar", "HH": "velar",
    "R": "r", "ER": "r",
    "W": "round_close", "UW": "round_close", "UH": "round_close",
    "OW": "round_open", "AO": "round_open", "OY": "round_open", "AW": "open",
    "IY": "spread", "IH": "spread", "Y": "spread",
    "EH": "mid", "EY": "mid", "AE": "open", "AH": "schwa",
    "AA": "open", "AY": "open",
    "SIL": "rest", "SP": "rest",
}


def viseme_for(phone: str) -> Viseme:
    """The mouth shape for one phone; unknown symbols rest rather than fail."""
    arpabet = phone.upper().rstrip("012")
    if arpabet in _ARPABET:
        return VISEMES[_ARPABET[arpabet]]
    if phone[:2] in _AFFRICATES:  # espeak's whole-phone events: "tʃ" is ch, not t
        return VISEMES["postalveolar"]
    return VISEMES[_IPA.get(phone[:1], "rest")] if phone else VISEMES["rest"]
