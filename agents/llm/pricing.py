"""Prices of known models, in USD per million tokens, and the lookup that applies overrides."""

from __future__ import annotations

from collections.abc import Mapping

from agents.config import ModelPrice

BUILTIN_PRICES: Mapping[str, ModelPrice] = {
    name: ModelPrice(prompt=prompt, completion=completion)
    for name, (prompt, completion) in {
        "gpt-4o": (2.5, 10.0),
        "gpt-4o-mini": (0.15, 0.6),
        "gpt-4.1": (2.0, 8.0),
        "gpt-4.1-mini": (0.4, 1.6),
        "gpt-4.1-nano": (0.1, 0.4),
        "gpt-4-turbo": (10.0, 30.0),
        "gpt-3.5-turbo": (0.5, 1.5),
        "o3": (2.0, 8.0),
        "o3-mini": (1.1, 4.4),
        "o4-mini": (1.1, 4.4),
        "deepseek-chat": (0.27, 1.1),
        "deepseek-reasoner": (0.55, 2.19),
        "claude-3-5-sonnet": (3.0, 15.0),
        "claude-3-5-haiku": (0.8, 4.0),
    }.items()
}


def find_price(model: str, overrides: Mapping[str, ModelPrice] | None = None) -> ModelPrice | None:
    """The price of `model`: an exact override, an exact built-in, else the longest known prefix.

    Provider prefixes such as `openai/` (OpenRouter) and dated suffixes such as `-2024-08-06`
    resolve to the base model's price.
    """
    table = {**BUILTIN_PRICES, **(overrides or {})}
    name = model.split("/", 1)[1] if "/" in model else model
    for candidate in (model, name):
        if candidate in table:
            return table[candidate]
    prefixes = [known for known in table if name.startswith(known + "-")]
    return table[max(prefixes, key=len)] if prefixes else None


def cost_usd(price: ModelPrice | None, prompt_tokens: int, completion_tokens: int) -> float:
    if price is None:
        return 0.0
    return (prompt_tokens * price.prompt + completion_tokens * price.completion) / 1_000_000
