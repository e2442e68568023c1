"""Exceptions whose messages are written for people: the faces print them as one line."""


class LabError(Exception):
    """Base class for every error the engine raises on bad input."""


class ConfigError(LabError):
    """A setting has a value the engine cannot use."""


class DataError(LabError):
    """A data set is missing, malformed or does not fit the model."""


class CheckpointError(LabError):
    """A checkpoint or run folder cannot be read or written."""


def flag_of(name: str) -> str:
    """The flag of a setting, as messages name it: batch_size -> --batch-size (the one place that spells the
    rule; here, at the bottom, so that every module that words an error can use it)."""
    return "--" + str(name).replace("_", "-")
