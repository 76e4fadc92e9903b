"""The group-fairness notion a method targets, and the gap metric that measures it.

``dp`` (demographic parity) is measured by ``dp_gap``; ``eo`` (equalized odds, the
RUNNER paper's ΔEO = |ΔTPR| + |ΔFPR|) by ``eodds_gap_sum``. This is the one place that
maps a notion to its gap metric and its label.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Notion", "NOTIONS"]


class Notion(StrEnum):
    """A fairness notion; ``Notion("dp").gap_metric == "dp_gap"``."""

    DP = "dp"
    EO = "eo"

    @property
    def gap_metric(self) -> str:
        """The name of the metric (in :mod:`fairnn.metrics`) that measures this notion's gap."""
        return {"dp": "dp_gap", "eo": "eodds_gap_sum"}[self.value]

    @property
    def label(self) -> str:
        """The gap's short label in tables and plots."""
        return {"dp": "ΔDP", "eo": "ΔEO"}[self.value]


#: the notions' names, in order
NOTIONS: tuple[str, ...] = tuple(n.value for n in Notion)
