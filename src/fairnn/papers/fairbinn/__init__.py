"""FairBiNN: Fair Bilevel Neural Networks (Yazdani-Jahromi et al., NeurIPS 2024).

- :mod:`.data`: the ``fairbinn`` and ``fairbinn-paper`` recipes (Adult, Health);
- :mod:`.protocol`: the official code's and the appendix's training protocols and η;
- :mod:`.study`: ``fairnn reproduce fairbinn`` (η sweep on Adult, Lagrangian vs bilevel).

The method itself is :mod:`fairnn.methods.fairbinn` (method ``fairbinn``), its network
:mod:`fairnn.nn.fairbinn`.
"""
