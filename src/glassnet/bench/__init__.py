"""Benchmarks that anyone can rerun: ``python -m glassnet.bench.speed`` (or ``glassnet bench speed``).

``speed`` trains glassnet, scikit-learn's ``MLPClassifier`` and PyTorch (when installed) on identical work, one
after the other in the same run, and prints their time ratios; see :mod:`glassnet.bench.speed`.
"""
