"""A run from command to result: its state on disk, its lock, the registry of runs, resume."""
