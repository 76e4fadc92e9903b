"""NNFF: certified individual fairness of a one-unit network on Boston (Liu & Hu, seed 002).

- :mod:`.model`: the paper's model ``5 + 45 · σ(w·x + b)``, ``SigmoidUnit``;
- :mod:`.weights`: its Boston similarity weights, the metric weight preset ``nnff``;
- :mod:`.study`: ``fairnn reproduce nnff`` and ``fairnn nnff`` (Algorithms 1-3 on
  Boston, each stage certified exactly).

The report's resampling (Algorithm 2) is the method ``resampling``
(:mod:`fairnn.methods.resampling`).
"""
