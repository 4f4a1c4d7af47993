"""Errors a user can act on.

Every error that comes from bad input names the file, and where it can, the line and column, in
one line, so an analyst can open the file at the right place.
"""

from __future__ import annotations


class DiogelError(Exception):
    """Base class for errors diogel reports to the user without a traceback."""


class InputError(DiogelError):
    """A file cannot be ingested as a whole (wrong headers, wrong file type, empty, too big).

    Nothing from the file is loaded; nothing already loaded is touched.
    """

    def __init__(self, file: str, message: str, line: int | None = None, column: str | None = None):
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.column:
            where += f": column '{self.column}'"
        return f"{where}: {self.message}"


class WarehouseError(DiogelError):
    """The warehouse cannot be reached or is not in the expected state."""
