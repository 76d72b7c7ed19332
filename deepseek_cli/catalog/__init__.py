"""The catalog: model facts, dated prices and deprecations, from ``models.toml``.

``models`` parses and looks up, ``pricing`` turns usage into money with the price in force,
``export`` gives the ``models --json`` objects. Data, not code: providers change prices and
model ids every few months, and a dated table is easier to review than branches. Only leaf
modules below.
"""
