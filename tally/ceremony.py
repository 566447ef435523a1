"""The k-of-ℓ key ceremony (trusted dealer) and a trustee's share check.

:func:`run_ceremony` generates the threshold Paillier key (crypto.threshold, T1–T4),
writes ``election-public-key.json`` and one passphrase-sealed
``trustee-<i>.share.json`` per trustee (crypto.keyfile), and nothing else: no file
ever holds ``p``, ``q`` or the undivided secret ``d``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from crypto.errors import InvalidEncoding, InvalidShare
from crypto.keyfile import KdfParams, encrypt_share, load_share_file
from crypto.threshold import (
    Progress,
    ThresholdPublicKey,
    check_share,
    generate_threshold_key,
)

PUBLIC_KEY_FILE = "election-public-key.json"


def share_file_name(index: int) -> str:
    return f"trustee-{index}.share.json"


@dataclass(frozen=True)
class CeremonyResult:
    """What the ceremony wrote: the public key and the share file paths."""

    public_key: ThresholdPublicKey
    public_key_path: Path
    share_paths: tuple[Path, ...]


def _write_json(path: Path, obj: object, mode: int) -> None:
    data = json.dumps(obj, indent=2, sort_keys=True) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(data)


def run_ceremony(
    out_dir: Path,
    *,
    bits: int,
    trustees: int,
    threshold: int,
    passphrases: Sequence[str],
    allow_test_key: bool = False,
    kdf: KdfParams | None = None,
    progress: Progress | None = None,
) -> CeremonyResult:
    """Generate the key and write the public key and the sealed shares into ``out_dir``.

    Refuses (ValueError) to overwrite existing ceremony files; the shares are written
    with mode 0600.  The dealer's secrets never leave :func:`generate_threshold_key`.
    """
    if len(passphrases) != trustees:
        raise ValueError(f"{len(passphrases)} passphrase(s) given for {trustees} trustees")
    if any(not p for p in passphrases):
        raise ValueError("empty passphrase")
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = [out_dir / PUBLIC_KEY_FILE] + [
        out_dir / share_file_name(i) for i in range(1, trustees + 1)
    ]
    existing = [str(t) for t in targets if t.exists()]
    if existing:
        raise ValueError(f"refusing to overwrite {', '.join(existing)}")
    tpk, shares = generate_threshold_key(
        bits, trustees, threshold, allow_test_key=allow_test_key, progress=progress
    )
    _write_json(targets[0], tpk.to_json(), 0o644)
    paths = []
    for share, passphrase in zip(shares, passphrases, strict=True):
        if progress is not None:
            progress(f"sealing share {share.index}/{trustees}")
        path = out_dir / share_file_name(share.index)
        _write_json(path, encrypt_share(share, passphrase, kdf=kdf), 0o600)
        paths.append(path)
    del shares
    return CeremonyResult(tpk, targets[0], tuple(paths))


def load_public_key(path: Path | str) -> ThresholdPublicKey:
    """Read ``election-public-key.json`` (InvalidEncoding if malformed)."""
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InvalidEncoding(f"{path}: not JSON") from exc
    return ThresholdPublicKey.from_json(obj)


def check_share_file(path: Path | str, public_key_path: Path | str, passphrase: str) -> None:
    """Open a share file and check it against the published key: ``v^(Δ·s_i) = v_i``.

    Raises DecryptionError (wrong passphrase / altered file), InvalidEncoding
    (malformed files) or InvalidShare (the share belongs to another key or fails).
    """
    published = load_public_key(public_key_path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEncoding("trustee share file is not JSON") from exc
    share = load_share_file(text, passphrase)
    if share.public != published:
        raise InvalidShare("the share belongs to a different election public key")
    check_share(share)
