"""Calibration of caseload-sim to BPS trends and pattern targets, with posterior uncertainty.

calibration.targets (target files), calibration.statistics (what is compared),
calibration.engine (prior, simulator, distance, parallel map), calibration.fit (ABC-SMC by
pyabc, rejection, optimize; resumable), calibration.predictive (posterior predictive checks,
projection), calibration.screen (Morris screening), calibration.report (HTML),
calibration.calibrate (the command's steps), calibration.cli (``caseload calibrate``).
"""
