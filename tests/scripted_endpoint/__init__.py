"""A scripted OpenAI-compatible HTTP endpoint for tests that need a real server."""

from .script import (
    Fault,
    Hang,
    Json,
    Match,
    Reply,
    Rule,
    Text,
    Truncated,
    Usage,
    estimate_usage,
    load_rules,
    schema_names,
)
from .server import (
    NO_RULE_MESSAGE,
    RecordedRequest,
    RuleBuilder,
    ScriptedEndpoint,
    embedding_vector,
)

__all__ = [
    "NO_RULE_MESSAGE",
    "Fault",
    "Hang",
    "Json",
    "Match",
    "RecordedRequest",
    "Reply",
    "Rule",
    "RuleBuilder",
    "ScriptedEndpoint",
    "Text",
    "Truncated",
    "Usage",
    "embedding_vector",
    "estimate_usage",
    "load_rules",
    "schema_names",
]
