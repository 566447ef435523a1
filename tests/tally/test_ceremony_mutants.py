"""tally.ceremony: the files the dealer ceremony writes (names, exact content, modes, no
overwrite), its refusals, the progress lines, and the share-file check's every refusal.

Written against the mutation run of 2026-11-29 (docs/testing.md "Mutation testing").  Fast:
the key generation is replaced by the published 1024-bit 3-of-5 TEST key (the real
generation is tested in tests/crypto and, end to end, in tests/cli/test_ceremony_cli.py);
shares are sealed with the test-only KDF parameters.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tally.ceremony as cer
from crypto.errors import DecryptionError, InvalidEncoding, InvalidShare
from crypto.keyfile import FAST_TEST_KDF, KdfParams, decrypt_share, encrypt_share
from crypto.threshold import KeyShare, ThresholdPublicKey
from tally.ceremony import (
    PUBLIC_KEY_FILE,
    CeremonyResult,
    check_share_file,
    load_public_key,
    run_ceremony,
    share_file_name,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DOC = json.loads((FIXTURES / "threshold-test-key-1024-3of5.json").read_text())
TPK = ThresholdPublicKey.from_json(DOC["public_key"])
SHARES = [KeyShare.from_json(s) for s in DOC["shares"]]
PASS = [f"passphrase {i}" for i in range(1, 6)]


@pytest.fixture(autouse=True)
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


class _Dealer:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kw: Any) -> tuple[ThresholdPublicKey, list[KeyShare]]:
        self.calls.append((args, kw))
        return TPK, list(SHARES)


@pytest.fixture()
def dealer(monkeypatch: pytest.MonkeyPatch) -> _Dealer:
    d = _Dealer()
    monkeypatch.setattr(cer, "generate_threshold_key", d)
    return d


def _run(out: Path, **kw: Any) -> CeremonyResult:
    args: dict[str, Any] = {"bits": 1024, "trustees": 5, "threshold": 3, "passphrases": PASS,
                            "kdf": FAST_TEST_KDF}
    return run_ceremony(out, **{**args, **kw})


def test_names() -> None:
    assert PUBLIC_KEY_FILE == "election-public-key.json"
    assert share_file_name(3) == "trustee-3.share.json"


def test_files_written(dealer: _Dealer, tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    lines: list[str] = []
    result = _run(out, allow_test_key=True, progress=lines.append)
    assert dealer.calls == [((1024, 5, 3), {"allow_test_key": True, "progress": lines.append})]
    assert lines == [f"sealing share {i}/5" for i in range(1, 6)]
    assert result == CeremonyResult(TPK, out / PUBLIC_KEY_FILE,
                                    tuple(out / f"trustee-{i}.share.json" for i in range(1, 6)))
    assert sorted(p.name for p in out.iterdir()) == [PUBLIC_KEY_FILE] + [
        f"trustee-{i}.share.json" for i in range(1, 6)]
    text = (out / PUBLIC_KEY_FILE).read_text(encoding="utf-8")
    assert text == json.dumps(TPK.to_json(), indent=2, sort_keys=True) + "\n"
    assert (out / PUBLIC_KEY_FILE).stat().st_mode & 0o777 == 0o644
    for i, path in enumerate(result.share_paths, start=1):
        assert path.stat().st_mode & 0o777 == 0o600
        text = path.read_text(encoding="utf-8")
        obj = json.loads(text)
        assert text == json.dumps(obj, indent=2, sort_keys=True) + "\n"
        assert obj["kdf"]["time_cost"] == 1 and obj["kdf"]["memory_cost"] == 8
        assert decrypt_share(obj, PASS[i - 1]) == SHARES[i - 1]
        check_share_file(path, out / PUBLIC_KEY_FILE, PASS[i - 1])


def test_defaults(dealer: _Dealer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[KdfParams | None] = []

    def seal(share: KeyShare, passphrase: str, *, kdf: KdfParams | None = None) -> Any:
        seen.append(kdf)
        return encrypt_share(share, passphrase, kdf=FAST_TEST_KDF)

    monkeypatch.setattr(cer, "encrypt_share", seal)
    run_ceremony(tmp_path, bits=2048, trustees=5, threshold=2, passphrases=PASS)
    assert dealer.calls == [((2048, 5, 2), {"allow_test_key": False, "progress": None})]
    assert seen == [None] * 5


def test_existing_folder_is_fine(dealer: _Dealer, tmp_path: Path) -> None:
    (tmp_path / "other.txt").write_text("x")
    assert len(_run(tmp_path).share_paths) == 5


@pytest.mark.parametrize(("passphrases", "message"), [
    (PASS[:4], r"^4 passphrase\(s\) given for 5 trustees$"),
    (PASS + ["x"], r"^6 passphrase\(s\) given for 5 trustees$"),
    (PASS[:4] + [""], "^empty passphrase$"),
    ([""] + PASS[1:], "^empty passphrase$"),
])
def test_refusals_before_anything_is_made(dealer: _Dealer, tmp_path: Path,
                                          passphrases: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _run(tmp_path / "out", passphrases=passphrases)
    assert dealer.calls == [] and not (tmp_path / "out").exists()


@pytest.mark.parametrize("existing", [[PUBLIC_KEY_FILE], ["trustee-1.share.json"],
                                      ["trustee-5.share.json", PUBLIC_KEY_FILE]])
def test_refuses_to_overwrite(dealer: _Dealer, tmp_path: Path, existing: list[str]) -> None:
    for name in existing:
        (tmp_path / name).write_text("old")
    names = [n for n in [PUBLIC_KEY_FILE] + [f"trustee-{i}.share.json" for i in range(1, 6)]
             if n in existing]
    message = "refusing to overwrite " + ", ".join(str(tmp_path / n) for n in names)
    with pytest.raises(ValueError, match=f"^{message}$"):
        _run(tmp_path)
    assert dealer.calls == []
    assert all((tmp_path / n).read_text() == "old" for n in existing)


def test_trustee_6_file_is_not_in_the_way(dealer: _Dealer, tmp_path: Path) -> None:
    (tmp_path / "trustee-6.share.json").write_text("old")
    (tmp_path / "trustee-0.share.json").write_text("old")
    assert len(_run(tmp_path).share_paths) == 5


def test_write_json_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    cer._write_json(path, {"b": [1], "a": "é"}, 0o640)
    assert path.read_bytes() == b'{\n  "a": "\\u00e9",\n  "b": [\n    1\n  ]\n}\n'
    assert path.stat().st_mode & 0o777 == 0o640
    with pytest.raises(FileExistsError):
        cer._write_json(path, {}, 0o640)


# ------------------------------------------------------------------ reading the files back


def test_load_public_key(tmp_path: Path) -> None:
    path = tmp_path / PUBLIC_KEY_FILE
    path.write_text(json.dumps(TPK.to_json()), encoding="utf-8")
    assert load_public_key(path) == TPK
    assert load_public_key(str(path)) == TPK
    path.write_text("{", encoding="utf-8")
    with pytest.raises(InvalidEncoding, match=f"^{path}: not JSON$"):
        load_public_key(path)
    path.write_bytes(b'{"\xff": 1}')
    with pytest.raises(InvalidEncoding, match=f"^{path}: not JSON$"):
        load_public_key(path)
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(InvalidEncoding):
        load_public_key(path)


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    (tmp_path / PUBLIC_KEY_FILE).write_text(json.dumps(TPK.to_json()), encoding="utf-8")
    for i, share in enumerate(SHARES[:2], start=1):
        (tmp_path / share_file_name(i)).write_text(
            json.dumps(encrypt_share(share, PASS[i - 1], kdf=FAST_TEST_KDF)), encoding="utf-8")
    return tmp_path


def test_check_share_file(files: Path) -> None:
    check_share_file(files / share_file_name(2), files / PUBLIC_KEY_FILE, PASS[1])
    check_share_file(str(files / share_file_name(1)), str(files / PUBLIC_KEY_FILE), PASS[0])
    with pytest.raises(DecryptionError, match="^wrong passphrase or the share file was altered$"):
        check_share_file(files / share_file_name(2), files / PUBLIC_KEY_FILE, PASS[0])


def test_share_of_another_key(files: Path) -> None:
    doc = TPK.to_json()
    doc["threshold"] = 2
    (files / "other.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InvalidShare, match="^the share belongs to a different election public "
                                           "key$"):
        check_share_file(files / share_file_name(1), files / "other.json", PASS[0])


def test_share_that_fails_its_verification_key(files: Path) -> None:
    bad = KeyShare(1, SHARES[0].s + 1, TPK)
    path = files / "bad.share.json"
    path.write_text(json.dumps(encrypt_share(bad, "pw", kdf=FAST_TEST_KDF)), encoding="utf-8")
    with pytest.raises(InvalidShare, match="^share 1 does not match its verification key$"):
        check_share_file(path, files / PUBLIC_KEY_FILE, "pw")


def test_malformed_share_file(files: Path) -> None:
    path = files / "bad.share.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(InvalidEncoding, match="^trustee share file is not JSON$"):
        check_share_file(path, files / PUBLIC_KEY_FILE, "pw")
    (files / "bad.json").write_text("nope", encoding="utf-8")
    with pytest.raises(InvalidEncoding, match=f"^{files / 'bad.json'}: not JSON$"):
        check_share_file(files / share_file_name(1), files / "bad.json", PASS[0])


def test_share_file_not_utf8_is_typed(files: Path) -> None:
    """A share file that is not UTF-8 text: UnicodeDecodeError escaped before."""
    path = files / "bad.share.json"
    path.write_bytes(b'{"\xff": 1}')
    with pytest.raises(InvalidEncoding, match="^trustee share file is not JSON$"):
        check_share_file(path, files / PUBLIC_KEY_FILE, "pw")


def test_a_dealer_returning_too_few_shares_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    """Every trustee's passphrase must seal a share: ``zip(..., strict=True)``."""
    monkeypatch.setattr(cer, "generate_threshold_key", lambda *a, **k: (TPK, SHARES[:4]))
    with pytest.raises(ValueError, match="^zip\\(\\) argument 2 is longer than argument 1$"):
        _run(tmp_path)
