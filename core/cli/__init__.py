"""The command line, ``python -m core train | eval``: flags (``commands``), training runs (``train``),
and progress bars (``progress``)."""
