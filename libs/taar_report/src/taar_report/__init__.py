"""taar-report: one self-contained HTML page showing whether the day's TAAR models look sane."""

__version__ = "0.1.0"
