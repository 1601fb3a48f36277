"""Errors that reach a user as one line and an exit code (never a traceback)."""


class CieloError(Exception):
    """A failure with a one-line message meant for the operator."""

    exit_code = 1


class UsageError(CieloError):
    """Bad command-line input: wrong dates, unknown sources, bad formats."""

    exit_code = 2


class ConfigError(CieloError):
    """config.toml is unreadable or does not validate."""

    exit_code = 2
