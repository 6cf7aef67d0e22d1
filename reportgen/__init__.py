"""reportgen: static report sites from Go profiling evidence."""

__version__ = "0.1.0"
