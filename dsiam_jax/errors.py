"""`UserError`: bad input from the user (config, paths, files), reported in one line.

`main` prints these without a traceback and exits with status 2; any other
exception is a bug and keeps its traceback. Subclasses also derive from the
matching built-in (ValueError, FileNotFoundError) so callers can catch either.
"""


class UserError(Exception):
    """Input the user can fix; the message names the field, file or line."""


class ConfigError(UserError, ValueError):
    """A config value that cannot run (names the field)."""


class InputFileError(UserError, FileNotFoundError):
    """A missing or unreadable input path (names it)."""
