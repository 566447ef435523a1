"""Saylau — verifiable electronic voting and e-petitions."""

__version__ = "0.1.0"
