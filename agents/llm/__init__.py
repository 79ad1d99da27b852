"""The LLM layer: one OpenAI-compatible client, structured output, prices and budget."""
