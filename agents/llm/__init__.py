"""The LLM layer: one OpenAI-compatible client, structured output, prices and budget."""

from agents.llm.client import LLM, Completion, LLMStatusError

__all__ = ["LLM", "Completion", "LLMStatusError"]
