"""Fairness Reprogramming (Zhang et al., NeurIPS 2022, Figures 3-6).

- :mod:`.study`: ``fairnn reproduce reprogramming`` (λ sweep, tuning ratio, transfer and
  multi-class against AdvPost and AdvIn).

The method itself is :mod:`fairnn.methods.reprogram` (method ``reprogram``), its
triggers :mod:`fairnn.nn.trigger`.
"""
