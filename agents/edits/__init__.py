"""Edits of a project: the proposal, path checks, search/replace blocks and code blocks."""
