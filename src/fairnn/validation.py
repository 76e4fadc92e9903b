"""Checks shared by fairnn's settings: a pydantic base model and a number check.

:class:`ConfigModel` is the base of fairnn's user-facing pydantic models
(:class:`~fairnn.training.TrainConfig`, method parameters, run specs): it behaves as
pydantic's ``BaseModel`` except that a bad value raises
:class:`~fairnn.errors.ConfigError` (a ``FairnnError`` and a ``ValueError``) with
one line per error naming the field, instead of pydantic's ``ValidationError``.
:func:`check_number` does the same for a plain function's numeric argument.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from fairnn.errors import ConfigError, FairnnError

__all__ = [
    "ConfigModel",
    "check_number",
    "check_seed",
    "config_errors",
    "format_validation_error",
]

_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


def format_validation_error(e: ValidationError, what: str) -> str:
    """One ``what 'field': problem (got value)`` clause per error, joined by ``; ``."""
    lines = []
    for err in e.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        lines.append(f"{what} {loc!r}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(lines)


@contextmanager
def config_errors(what: str) -> Iterator[None]:
    """Turn a pydantic ``ValidationError`` raised inside into a :class:`ConfigError`."""
    try:
        yield
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, what)) from None


class ConfigModel(BaseModel):
    """A pydantic model whose validation errors are :class:`ConfigError`.

    Construction (``Model(...)``, ``model_validate``, ``model_validate_json``) and
    assignment (with ``validate_assignment``) raise ``ConfigError``; ``what`` names
    the kind of setting in the message (``"training setting 'lr': ..."``). Nested
    models validate as in pydantic; the outermost call reports every error.
    """

    #: every float field of every subclass refuses nan and ±inf (pydantic merges a
    #: subclass's ``model_config`` into this one), so ``lr=inf`` or ``lam=nan`` fails here
    #: rather than as a NaN loss mid-training
    model_config = ConfigDict(allow_inf_nan=False)

    #: the kind of setting, as the error message names it; a subclass sets it with
    #: ``class TrainConfig(ConfigModel, what="training setting")``
    what: ClassVar[str] = "setting"

    def __init_subclass__(cls, what: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if what is not None:
            cls.what = what

    def __init__(self, /, **data: Any) -> None:
        with config_errors(self.what):
            super().__init__(**data)

    # pydantic then validates nested instances without calling this __init__ (as RootModel)
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Any:
        with config_errors(cls.what):
            return super().model_validate(obj, **kwargs)

    @classmethod
    def model_validate_json(cls, json_data: Any, **kwargs: Any) -> Any:
        with config_errors(cls.what):
            return super().model_validate_json(json_data, **kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        with config_errors(self.what):
            super().__setattr__(name, value)


def check_number(
    value: Any,
    name: str,
    *,
    integer: bool = False,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    hint: str = "",
    error: type[FairnnError] = ConfigError,
) -> None:
    """Raise ``error`` unless ``value`` is a finite number (an integer if ``integer``) in range.

    The message names ``name`` and the allowed range, e.g. ``"time_limit must be a
    finite number > 0 (seconds), got -1.0"``; ``hint`` is appended in parentheses.
    """
    bounds = [(">=", ge), (">", gt), ("<=", le), ("<", lt)]
    if integer:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    else:
        ok = (
            isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
        )
    ok = ok and all(b is None or _OPS[op](value, b) for op, b in bounds)
    if not ok:
        what = "an integer" if integer else "a finite number"
        rng = " and ".join(f"{op} {b:g}" for op, b in bounds if b is not None)
        note = f" ({hint})" if hint else ""
        raise error(f"{name} must be {what}{' ' + rng if rng else ''}{note}, got {value!r}")


def check_seed(seed: Any) -> None:
    """A seed is an integer >= 0 (numpy's generators refuse negative ones)."""
    check_number(seed, "seed", integer=True, ge=0)
