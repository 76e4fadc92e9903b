"""The registry entries fairnn takes when none is named, each named once here.

* :data:`DEFAULT_RECIPE`: the recipe a dataset loads under (fairnn's clean
  preprocessing); :mod:`fairnn.datasets.recipes` registers its recipe under this name
  (and re-exports it as ``fairnn.datasets.recipes.DEFAULT_RECIPE``).
* :data:`BASELINE_METHOD`: plain training with no fairness intervention, the method a
  run takes by default and the shared base model of the post-processing methods;
  :mod:`fairnn.methods.vanilla` registers its method under this name.

They live in this module, which imports nothing, so the facade (:mod:`fairnn.api`) and
the command line can show them as defaults without loading pandas or torch.
"""

from __future__ import annotations

__all__ = ["BASELINE_METHOD", "DEFAULT_RECIPE"]

#: the recipe a dataset loads under unless one is named: fairnn's clean preprocessing
DEFAULT_RECIPE = "clean"
#: plain training, no fairness intervention (ERM; RUNNER's "Vanilla" baseline)
BASELINE_METHOD = "vanilla"
