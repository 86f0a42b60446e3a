"""Running the model: scenario files, one run, batches (plan, store, executors), sweeps and result files.

Uses the model package ``sim`` and nothing above it; the command line (``cli``), the analysis
(``analysis``), the web UI (``ui``) and ``calibration`` use this package.
"""
