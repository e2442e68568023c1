"""The typed contract every part relies on: events, the run result, the --monitor rule, values read back."""
