"""Hamseda (همصدا, "of one voice"): a self-hosted platform for digital campaigns."""

__version__ = "0.1.0"
