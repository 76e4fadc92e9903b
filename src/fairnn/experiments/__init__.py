"""Run specs, protocols and (later) sweeps, results stores and reports."""

from fairnn.experiments.protocols import protocol
from fairnn.experiments.run import RunResult, run_spec
from fairnn.experiments.spec import RunSpec

__all__ = ["RunResult", "RunSpec", "protocol", "run_spec"]
