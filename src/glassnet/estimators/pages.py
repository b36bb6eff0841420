"""The estimators' documentation pages, ``docs/estimators/<Name>.md``, written from their docstrings.

Run ``python -m glassnet.estimators.pages`` (or call :func:`write_pages`) after changing a parameter's
documentation; a test fails while a page is out of date. Each page is what the estimators' HTML display links to
(:data:`glassnet.estimators._docs.DOCS_URL`).
"""

from __future__ import annotations

from pathlib import Path

from glassnet.estimators._classifier import MLPClassifier
from glassnet.estimators._docs import estimator_page
from glassnet.estimators._ensemble import EnsembleClassifier
from glassnet.estimators._regressor import MLPRegressor

__all__ = ["write_pages"]


def write_pages(folder="docs/estimators") -> list[Path]:
    """Write ``<folder>/<Name>.md`` for each estimator (:func:`~glassnet.estimators._docs.estimator_page`);
    returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for estimator in (MLPClassifier, MLPRegressor, EnsembleClassifier):
        paths.append(folder / f"{estimator.__name__}.md")
        paths[-1].write_text(estimator_page(estimator), encoding="utf-8")
    return paths


if __name__ == "__main__":
    for path in write_pages():
        print(path)
