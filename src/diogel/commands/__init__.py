"""Command modules for the ``diogel`` CLI; each defines ``register(app)``. See :mod:`diogel.cli`."""

# The warehouse's own commands, in the order a new user meets them, lead ``diogel --help``; every
# other module follows by name.
FIRST = ("init", "ingest", "kinds", "status", "counts")
