"""Benchmarks (``saylau bench``): rates as ratios to the raw ``gmpy2.powmod`` floor."""
