"""fairnn: measure, mitigate and certify the fairness of neural networks."""

from __future__ import annotations

__version__ = "0.1.0"

from fairnn.errors import FairnnError  # noqa: E402

__all__ = ["FairnnError", "__version__"]
