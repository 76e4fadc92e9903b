"""RUNNER: Responsible UNfair NEuron Repair (Li et al., ICSE 2024), with the Fair Mixup
(Chuang & Mroueh, ICLR 2021) Adult preprocessing it reuses.

- :mod:`.data`: the ``runner`` and ``runner-fixed`` recipes and the 120-feature Adult
  encoding (:class:`~fairnn.papers.runner.data.RunnerAdultPreprocessor`);
- :mod:`.protocol`: the official code's training protocol and the README's λ and k;
- :mod:`.study`: ``fairnn reproduce runner`` (Table 3's shape).

The method itself is :mod:`fairnn.methods.runner` (method ``runner``).
"""
