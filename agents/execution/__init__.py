"""Running generated code: the sandbox, package environments, and the test runner."""
