"""Indexing of existing code: parsing, ranking and the token budget of prompts."""
