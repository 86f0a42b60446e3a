"""The ``caseload`` command line: ``cli.main`` (run, validate, params) and ``cli.batch`` (batch, compare, sweep)."""
