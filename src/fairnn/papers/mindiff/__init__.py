"""MinDiff in the over-parameterized regime (Veldanda et al., TMLR 2023, §4-5).

- :mod:`.study`: ``fairnn reproduce mindiff`` (constrained test error against width for
  ERM, MinDiff and MinDiff with L2, flooding or early stopping; batch-size sensitivity).

The method itself is :mod:`fairnn.methods.mindiff` (method ``mindiff``).
"""
