"""Training, export, calibration and evaluation (the jobs behind the CLI verbs)."""
