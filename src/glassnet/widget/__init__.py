"""glassnet in the notebook (JupyterLab, VS Code, Colab): watch a fit live, or open the playground in a cell.

=============================  ===================================================================
:class:`LiveFit`               a callback for ``Trainer`` and the estimators that shows the fit live
:class:`FitWidget`             the anywidget it draws with (traits: epoch, curves, map, weights)
:func:`playground`             the playground, served from the kernel and shown in the cell
=============================  ===================================================================

Needs the ``widget`` extra: ``pip install 'glassnet[widget]'`` (anywidget).

Example
-------
>>> from glassnet.widget import LiveFit                                # doctest: +SKIP
>>> MLPClassifier(hidden_layer_sizes=(16, 16)).fit(X, y, callbacks=[LiveFit()])  # doctest: +SKIP
"""

from glassnet.widget.live import LiveFit
from glassnet.widget.notebook_playground import playground
from glassnet.widget.view import FitWidget

__all__ = ["FitWidget", "LiveFit", "playground"]
