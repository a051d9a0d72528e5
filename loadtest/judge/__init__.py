"""Judging a run: the audit, the business figures, the clock's distortion, the
staffing's prediction beside the measurement, the knee and drift, the headroom, the
verdict and summary, the comparison of two runs and the reports."""
