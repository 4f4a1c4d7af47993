"""Command modules for the ``diogel`` CLI; each defines ``register(app)``. See :mod:`diogel.cli`."""
