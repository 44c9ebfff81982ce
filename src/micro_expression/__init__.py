"""MOL micro-expression recognition pipeline."""

__version__ = "0.1.0"
