"""The LLM layer: one OpenAI-compatible client in layers (transport, endpoint slot, budget,
journal), structured output and prices."""
