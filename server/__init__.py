"""Everything that talks to editors and terminals: the language server and the `sopls` CLI."""
