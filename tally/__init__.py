"""Homomorphic aggregation, ballot verification and threshold decryption (tally layer)."""
