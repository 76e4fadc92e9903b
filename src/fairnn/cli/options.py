"""What several commands share: error printing, logging, method parameters given as
``--name value``, and the options declared once (``--json``, ``--overwrite``, a model
directory, your own split, and the options of a user's own model file)."""

from __future__ import annotations

import functools
import inspect
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from fairnn import api
from fairnn.errors import ConfigError, FairnnError

F = TypeVar("F", bound=Callable[..., Any])

#: a command that takes method parameters as --name value after its own options
EXTRA_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}


def friendly(fn: F) -> F:
    """Print a FairnnError's message (no traceback) and exit with status 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FairnnError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def setup_logging(quiet: bool) -> None:
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(message)s")


def show(result: Any, as_json: bool = False) -> None:
    """Print a :mod:`fairnn.api` result: its JSON on one line, or its text."""
    typer.echo(json.dumps(result.to_json()) if as_json else result.to_text())


def exit_with(message: str | None, code: int) -> None:
    """Print ``message`` (when there is one) on stderr and exit with ``code``."""
    if message is None:
        return
    typer.echo(message, err=True)
    raise typer.Exit(code)


def parse_extra(args: list[str]) -> dict[str, Any]:
    """``['--lam', '0.3', '--neuron_ratio=0.05', '--flag']`` → method parameters."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        tok = args[i]
        if not tok.startswith("--") or len(tok) < 3:
            raise ConfigError(
                f"unexpected argument {tok!r}; method parameters are given as --name value"
            )
        name, eq, value = tok[2:].partition("=")
        values: list[str] = []
        if eq:
            values = [value]
        else:
            while i + 1 < len(args) and not (
                args[i + 1].startswith("--") and not _is_number(args[i + 1])
            ):
                i += 1
                values.append(args[i])
        key = name.replace("-", "_")
        parsed = [parse_scalar(v) for v in values]
        out[key] = True if not parsed else parsed[0] if len(parsed) == 1 else parsed
        i += 1
    return out


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def parse_scalar(v: str) -> Any:
    """A command-line value as JSON (``0.3``, ``true``, ``[1, 2]``), else the string."""
    try:
        return json.loads(v)
    except json.JSONDecodeError:
        return v


def optional_scalar(v: str | None) -> Any:
    return None if v is None else parse_scalar(v)


# -- options declared once ---------------------------------------------------------------
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object as the last line.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
DeviceOpt = Annotated[str, typer.Option(help="cpu, cuda or cuda:N.")]
OverwriteOpt = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace what an earlier run wrote at --out (atomically); without it, refuse.",
    ),
]
DbOpt = Annotated[Path, typer.Option(help="Results database (SQLite).")]
ThresholdOpt = Annotated[
    float | None,
    typer.Option(
        help="Decide at this threshold in (0, 1) instead of the model's own (0.5 unless "
        "it was trained with --threshold)."
    ),
]
ModelDirArg = Annotated[
    Path | None,
    typer.Argument(help="A model directory written by `fairnn train --out` (or use --model-file)."),
]
SeedOpt = Annotated[int, typer.Option(help="--model-file: seed of the split.")]

# your own table's column choices (train, datasets info; docs/datasets.md)
DropOpt = Annotated[
    list[str] | None,
    typer.Option(help="Own data: leave this column out of the inputs (COL[,COL]; repeat)."),
]
SensitiveAsInputOpt = Annotated[
    bool | None,
    typer.Option(
        "--sensitive-as-input/--no-sensitive-as-input",
        help="Own data: also feed the sensitive column(s) to the model (default: no).",
    ),
]
GroupNamesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--group-names",
        help="Own data: names of a sensitive column's groups, e.g. SEX=1:male,2:female; "
        "repeat per column.",
    ),
]

# your own split: three tables, or one (--data) with a column naming each row's split
TrainFileOpt = Annotated[
    str | None,
    typer.Option("--train", help="Your own split: the training table (with --val, --test)."),
]
ValFileOpt = Annotated[
    str | None, typer.Option("--val", help="Your own split: the validation table.")
]
TestFileOpt = Annotated[str | None, typer.Option("--test", help="Your own split: the test table.")]
SplitColumnOpt = Annotated[
    str | None,
    typer.Option(
        "--split-column",
        "--split_column",
        help="Your own split in one --data table: the column holding train/val/test "
        "(validation, valid also mean val); it is not a feature.",
    ),
]


def data_option(
    data: str | None, train: str | None, val: str | None, test: str | None
) -> str | dict[str, str] | None:
    """``--data F``, or ``--train F --val F --test F`` as the mapping fairnn.api takes."""
    files = {"train": train, "val": val, "test": test}
    if all(f is None for f in files.values()):
        return data
    missing = [f"--{k}" for k, f in files.items() if f is None]
    if missing:
        raise ConfigError(
            f"your own split needs all three tables: add {' and '.join(missing)} (or give one "
            "--data table with --split-column COLUMN)"
        )
    if data is not None:
        raise ConfigError(
            "give --data F or --train F --val F --test F, not both (one table with its own "
            "split: --data F --split-column COLUMN)"
        )
    return files  # type: ignore[return-value]


#: a user's own model file and its data, as audit, repair and certify take them
MODEL_FILE_OPTIONS: dict[str, tuple[Any, Any]] = {
    "model_file": (
        Annotated[
            Path | None,
            typer.Option(
                "--model-file",
                help="Your own model: a .safetensors state dict (with an architecture spec, "
                "--arch).",
            ),
        ],
        None,
    ),
    "arch": (
        Annotated[
            Path | None,
            typer.Option(
                help="JSON architecture spec of --model-file (default: its name with .json)."
            ),
        ],
        None,
    ),
    "data": (
        Annotated[
            str | None, typer.Option(help="--model-file: dataset name or CSV/parquet table.")
        ],
        None,
    ),
    "label": (
        Annotated[str | None, typer.Option(help="--model-file on a table: the label column.")],
        None,
    ),
    "sensitive": (
        Annotated[
            list[str] | None,
            typer.Option(help="--model-file on a table: sensitive column(s); repeat."),
        ],
        None,
    ),
    "feature": (
        Annotated[
            list[str] | None,
            typer.Option(
                "--feature", help="--model-file on a table: input column, in order; repeat."
            ),
        ],
        None,
    ),
    "positive_label": (
        Annotated[
            str | None,
            typer.Option(help="--model-file on a table: the label value that is positive."),
        ],
        None,
    ),
    "recipe": (
        Annotated[str, typer.Option(help="--model-file on a dataset name: recipe.")],
        api.DEFAULT_RECIPE,
    ),
    "train_file": (TrainFileOpt, None),
    "val_file": (ValFileOpt, None),
    "test_file": (TestFileOpt, None),
    "split_column": (SplitColumnOpt, None),
}
#: the options that name your own split's three tables (combined into ``data``)
SPLIT_FILES = ("train_file", "val_file", "test_file")


def model_file_options(fn: F) -> F:
    """Give a command the options of :data:`MODEL_FILE_OPTIONS` in place of its parameter
    ``user_model``, which receives them as the keywords of ``fairnn.api.model_source``
    (``feature`` becomes ``features``, ``positive_label`` is parsed, ``--train --val
    --test`` become ``data``). A command that declares its own ``data`` keeps it (and
    passes it on itself), with ``--train --val --test`` in it."""
    signature = inspect.signature(fn, eval_str=True)
    own = set(signature.parameters)
    added = [name for name in MODEL_FILE_OPTIONS if name not in own]
    params: list[inspect.Parameter] = []
    for p in signature.parameters.values():
        if p.name != "user_model":
            params.append(p)
            continue
        for name in added:
            annotation, default = MODEL_FILE_OPTIONS[name]
            params.append(
                inspect.Parameter(
                    name, p.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation
                )
            )

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in added}
        holder = kwargs if "data" in own else given
        holder["data"] = data_option(holder["data"], *(given.pop(k) for k in SPLIT_FILES))
        return fn(*args, user_model=_api_keywords(given), **kwargs)

    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper  # type: ignore[return-value]


def _api_keywords(given: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in given.items() if k not in ("feature", "positive_label")}
    out["features"] = given["feature"]
    out["positive_label"] = optional_scalar(given["positive_label"])
    return out
