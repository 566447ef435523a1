"""What a person reads for an API error code, in their language.

JSON error bodies stay as they are (``{"error": {"code", "message"}}``, the message in English
for programs and logs).  People see a translated sentence chosen by the *code*:

- in the browser, every page carries :func:`catalogue` (a JSON object code → message in the
  page's language, ``<script type="application/json" id="saylau-error-messages">``) and
  ``static/js/page-api.js`` replaces the English message of a failed call with the entry for
  its code, else for its HTTP status (``status:403``), else ``default``;
- on HTML error pages, :func:`message_for` gives the same sentence.
"""

from __future__ import annotations

from flask_babel import gettext as _

#: Codes grouped by the sentence they share.
_GROUPS: dict[str, tuple[str, ...]] = {
    "request": ("bad_request", "invalid_body", "invalid_parameter", "malformed_json",
                "unsupported_media_type", "invalid_regions", "out_of_range", "invalid_target"),
    "state": ("conflict", "illegal_transition", "frozen", "not_closed", "not_decrypted",
              "decrypted", "already_tallied"),
    "crypto": ("invalid_ballot", "invalid_proof", "invalid_ciphertext", "invalid_encoding",
               "invalid_signature", "invalid_signature_payload", "non_canonical",
               "invalid_blinded_message"),
    "busy": ("busy", "timeout"),
    "roll": ("not_enrolled", "wrong_roll_index", "bad_request_signature"),
}


def _messages() -> dict[str, str]:
    """Code (or ``status:N``, ``default``) → sentence in the current locale."""
    shared = {
        "request": _("The request was not valid."),
        "state": _("This is not possible in the current state."),
        "crypto": _("The server did not accept the encrypted ballot or signature: its proof "
                    "does not verify. Do not use this device; report it."),
        "busy": _("The server is busy; please try again in a moment."),
        "roll": _("Your roll key is not on this election's published roll, or it is not the "
                  "key you enrolled: no voting card can be issued against it."),
    }
    messages = {code: shared[group] for group, codes in _GROUPS.items() for code in codes}
    messages.update({
        "not_open": _("Voting or signing is not open now."),
        "window_closed": _("The voting period is over."),
        "not_on_roll": _("You are not on this election's voter roll."),
        "already_issued": _("A credential was already issued to you (perhaps on another "
                            "device). Use that device to vote or to change your vote."),
        "enrollment_closed": _("Enrollment is closed: keys go on the roll only before voting "
                               "opens."),
        "key_on_roll": _("This key is already on the roll for another voter."),
        "login_mode_retired": _("An election without a roll of voter keys (login mode) can no "
                                "longer be created: use enrolled keys or national "
                                "certificates."),
        "already_voted": _("You have already voted in this election, and it does not allow "
                           "a revote."),
        "already_signed": _("You have already signed this petition. Each citizen can sign "
                            "once."),
        "already_sponsored": _("You already sponsor this petition."),
        "own_petition": _("You cannot sponsor your own petition."),
        "unconfirmed": _("You need a confirmed e-mail address to sign."),
        "invalid_credential": _("The credential was not accepted; reload the page and try "
                                "again."),
        "ciphertext_reused": _("This encrypted ballot was already cast; a copy is not "
                               "accepted."),
        "invalid_token": _("This link is invalid or expired."),
        "unauthorized": _("Please log in first."),
        "forbidden": _("You are not allowed to do this."),
        "csrf": _("The form expired or its security token is missing; go back, reload and "
                  "try again."),
        "not_found": _("Nothing was found at this address."),
        "too_large": _("The upload is too large."),
        "rate_limited": _("Too many requests; please wait a minute and try again."),
        "internal": _("Something went wrong on the server. Please try again later."),
        # -- PKI mode (issue 11): why the server refused a certificate (crypto/pki.py codes)
        "untrusted_certificate": _("This certificate was not issued by the certification "
                                   "authority this election trusts."),
        "certificate_expired": _("This certificate is expired or not yet valid."),
        "certificate_revoked": _("This certificate has been revoked."),
        "no_national_id": _("This certificate does not carry an IIN (individual "
                            "identification number)."),
        "national_id_mismatch": _("The IIN in this certificate is not the one on the voter "
                                  "roll for you."),
        "id_on_roll": _("This IIN is already on the voter roll with another account."),
        "invalid_certificate": _("This is not a valid certificate."),
        "unsupported_key": _("Only RSA and ECDSA (P-256, P-384) certificates are supported."),
        **dict.fromkeys(("no_crl", "bad_crl", "stale_crl", "pki_not_configured"), _(
            "The server cannot check certificates right now. Please tell the election "
            "commission.")),
        # -- end PKI mode
        "status:400": shared["request"],
        "status:401": _("Please log in first."),
        "status:403": _("You are not allowed to do this."),
        "status:404": _("Nothing was found at this address."),
        "status:409": shared["state"],
        "status:413": _("The upload is too large."),
        "status:429": _("Too many requests; please wait a minute and try again."),
        "status:503": shared["busy"],
        "default": _("Something went wrong on the server. Please try again later."),
    })
    return messages


def catalogue() -> dict[str, str]:
    """Every code's sentence in the current locale (embedded in each page for the browser)."""
    return _messages()


def message_for(code: str | None, status: int) -> str | None:
    """The sentence for ``code`` (else for ``status``) in the current locale; None if neither."""
    messages = _messages()
    return messages.get(code or "") or messages.get(f"status:{status}")
