"""Errors raised by fairnn.

Every error a user can trigger derives from :class:`FairnnError` and says what
was wrong, where, and what to do about it. The CLI prints the message of a
``FairnnError`` without a traceback and exits with status 2.
"""

from __future__ import annotations


class FairnnError(Exception):
    """Base class of every error fairnn raises on purpose."""


class DatasetError(FairnnError):
    """A dataset name, file or column is unknown, missing or invalid."""


class DataNotFoundError(DatasetError):
    """A dataset file could not be found locally nor downloaded."""


class ChecksumError(DatasetError):
    """A dataset file's bytes do not match the recorded sha256."""


class ColumnError(DatasetError):
    """A label or sensitive column is missing or unusable."""


class InvalidValueError(FairnnError, ValueError):
    """Input values are invalid: NaN/inf, non-binary labels, a single group, shape mismatch."""


class ConfigError(FairnnError, ValueError):
    """A method or training parameter is invalid."""


class ModelFileError(FairnnError):
    """A model directory is missing, unreadable or not a fairnn model, or cannot be written."""
