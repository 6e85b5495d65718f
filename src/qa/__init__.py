"""qa: questions answered from an article, with citations that slice the source exactly."""

__version__ = "0.1.0"
