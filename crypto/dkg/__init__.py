"""Distributed (dealer-free) threshold Paillier key generation — docs §4.7 (eqs. D1–D16).

* :mod:`crypto.dkg.errors`    typed errors; every cheating error names the trustee;
* :mod:`crypto.dkg.params`    public parameters and the bounds of §4.7.2;
* :mod:`crypto.dkg.channel`   signed, end-to-end encrypted envelopes over an untrusted relay;
* :mod:`crypto.dkg.protocol`  one trustee's side of the protocol (BGW over F_P, BF test,
  θ, integer re-sharing with Feldman commitments, key confirmation, signatures);
* :mod:`crypto.dkg.transcript` the public transcript and its verifier.

No Flask, no SQLAlchemy, no network: the relay is an injected object.
"""
