"""glassnet playground: watch the real engine learn a 2-D problem in the browser (``glassnet playground``)."""
