"""Approximate prices of the language models, to report what writing cost.

USD per million tokens (input, output): the providers' list prices for standard
requests when this table was written (2026). Prices change and discounts (batch,
cached input) are not counted, so costs are estimates. A model is matched by the
longest name that begins its id ("claude-haiku-4-5-20251001" -> "claude-haiku-4-5");
a model not listed (local models, most compatible endpoints) has no known cost.
"""

from __future__ import annotations

PRICES_PER_MILLION_TOKENS: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-opus-4": (15.00, 75.00),
    "claude-opus-4-5": (5.00, 25.00),
}


def price(model: str) -> tuple[float, float] | None:
    matches = [name for name in PRICES_PER_MILLION_TOKENS if model.startswith(name)]
    return PRICES_PER_MILLION_TOKENS[max(matches, key=len)] if matches else None


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> float | None:
    known = price(model)
    if known is None:
        return None
    return (input_tokens * known[0] + output_tokens * known[1]) / 1e6
