"""Saylau's cryptography: pure Python over phe, gmpy2 and pyca/cryptography.

Layering: ``crypto`` imports no web framework and no database layer, and nothing from
``tally``, ``audit`` or ``app``.  Every check raises a subclass of
:class:`crypto.errors.CryptoError` when it fails; none returns ``False``.
"""
