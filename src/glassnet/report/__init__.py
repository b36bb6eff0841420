"""Pictures and a self-contained HTML report of trained models (matplotlib, Agg backend)."""

from glassnet.report.html import Section, embed_png, html_table, render_report, write_report
from glassnet.report.plots import (
    plot_confusion_matrix,
    plot_first_layer,
    plot_loss_curves,
    plot_misclassified,
    plot_prediction_grid,
)

__all__ = [
    "Section",
    "embed_png",
    "html_table",
    "plot_confusion_matrix",
    "plot_first_layer",
    "plot_loss_curves",
    "plot_misclassified",
    "plot_prediction_grid",
    "render_report",
    "write_report",
]
