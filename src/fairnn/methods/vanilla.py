"""Vanilla: empirical risk minimisation with no fairness intervention.

The reference point of every comparison ("Vanilla" in RUNNER, ICSE 2024, §5;
"ERM" in the Fair Fairness Benchmark): the MLP trained on the primary loss
alone (BCE on the logit, or squared error for regression).
"""

from __future__ import annotations

from fairnn.defaults import BASELINE_METHOD
from fairnn.methods.base import Method, MethodParams, register


@register
class Vanilla(Method[MethodParams]):
    """Plain training: the primary loss and nothing else."""

    name = BASELINE_METHOD
    aliases = ("van", "erm")
    stage = "in"
    paper = "Empirical risk minimisation (RUNNER's 'Vanilla' baseline, ICSE 2024, §5)"
    ignored_params = ("lam", "neuron_ratio")
    needs_groups = False
