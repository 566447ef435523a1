"""The published election record and its independent verifier (``saylau verify``)."""
