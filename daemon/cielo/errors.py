"""Errors that reach a user as one line and an exit code (never a traceback)."""

# A damaged database file: its own exit status, so that systemd does not restart into it in a loop
# (systemd/cielo.service: RestartPreventExitStatus=3) and scripts can tell it from a failed run.
EXIT_DAMAGED = 3


class CieloError(Exception):
    """A failure with a one-line message meant for the operator."""

    exit_code = 1


class UsageError(CieloError):
    """Bad command-line input: wrong dates, unknown sources, bad formats."""

    exit_code = 2


class ConfigError(CieloError):
    """config.toml is unreadable or does not validate."""

    exit_code = 2


class DatabaseDamaged(CieloError):
    """The SQLite file is corrupt: nothing will work until it is recovered or replaced."""

    exit_code = EXIT_DAMAGED


RECOVER_HINT = ("stop cielo; recover what is readable with `sqlite3 DB .recover | sqlite3 DB.new` and move DB.new "
                "into place, or move the file away and refill it with `cielo backfill` (docs/design.md, Damaged "
                "database)")


def damaged(path: object, detail: str) -> DatabaseDamaged:
    return DatabaseDamaged(f"{path}: the database is damaged ({detail}); "
                           + RECOVER_HINT.replace("DB", str(path)))


def is_damage(exc: BaseException) -> bool:
    """Does this sqlite3 error mean the file itself is corrupt (not locked, not full, not missing)?"""
    text = str(exc).lower()
    return any(m in text for m in ("malformed", "not a database", "corrupt", "file is encrypted"))


def unexpected(exc: Exception, database: object) -> CieloError:
    """The one line for an error nothing else caught: a damaged or failing database named as such, anything
    else as the unexpected error it is (-v logs its traceback)."""
    import sqlite3

    if isinstance(exc, sqlite3.DatabaseError):
        return damaged(database, str(exc)) if is_damage(exc) else CieloError(f"{database}: {exc}")
    return CieloError(f"unexpected {type(exc).__name__}: {' '.join(str(exc).split())[:300]} "
                      "(run with -v for details; please report it)")
