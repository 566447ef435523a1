"""`saylau ceremony` and tally.ceremony.check_share_file, end to end with a 1024-bit TEST key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crypto import paillier, threshold
from crypto.errors import DecryptionError, InvalidShare
from crypto.keyfile import decrypt_share
from crypto.threshold import ThresholdPublicKey, combine, partial_decrypt
from saylau.cli import main
from tally.ceremony import check_share_file, load_public_key

PASSPHRASES = [f"trustee passphrase number {i}" for i in range(1, 6)]


PRIMES: list[int] = []


@pytest.fixture(scope="module")
def ceremony(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("ceremony")
    real = threshold.generate_safe_prime

    def recording(*args, **kwargs) -> int:
        prime = real(*args, **kwargs)
        PRIMES.append(prime)
        return prime

    pfile = base / "passphrases.txt"
    pfile.write_text("\n".join(PASSPHRASES) + "\n", encoding="utf-8")
    out = base / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(threshold, "generate_safe_prime", recording)
        rc = main([
            "ceremony", "--trustees", "5", "--threshold", "3", "--bits", "1024", "--test-key",
            "--kdf-fast", "--out", str(out), "--passphrase-file", str(pfile),
        ])
    assert rc == 0
    return out


def test_files_written(ceremony: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = sorted(p.name for p in ceremony.iterdir())
    assert names == ["election-public-key.json"] + [f"trustee-{i}.share.json" for i in range(1, 6)]
    tpk = load_public_key(ceremony / "election-public-key.json")
    assert (tpk.threshold, tpk.trustees, tpk.n.bit_length()) == (3, 5, 1024)
    for i in range(1, 6):
        path = ceremony / f"trustee-{i}.share.json"
        assert path.stat().st_mode & 0o077 == 0
        share = decrypt_share(json.loads(path.read_text()), PASSPHRASES[i - 1])
        assert share.index == i and share.public == tpk


def test_no_file_contains_the_factors_or_the_shares(ceremony: Path) -> None:
    tpk = load_public_key(ceremony / "election-public-key.json")
    shares = [
        decrypt_share(json.loads((ceremony / f"trustee-{i}.share.json").read_text()), PASSPHRASES[i - 1])
        for i in range(1, 6)
    ]
    blob = "".join(p.read_text() for p in ceremony.iterdir())
    assert len(PRIMES) == 2 and PRIMES[0] * PRIMES[1] == tpk.n
    for prime in PRIMES:  # p, q, p', q' and m = p'q' appear nowhere, in any base-16 form
        for secret in (prime, (prime - 1) // 2):
            assert format(secret, "x") not in blob
    m = ((PRIMES[0] - 1) // 2) * ((PRIMES[1] - 1) // 2)
    assert format(m, "x") not in blob
    for secret_name in ('"p"', '"q"', '"d"', '"m"', '"lambda"', '"s"'):
        assert secret_name not in blob
    for share in shares:
        assert format(share.s, "x") not in blob
    # And the key works: threshold decryption with shares 2, 4, 5.
    fp = tpk.fingerprint()
    c, _ = paillier.encrypt(tpk.public, 99)
    parts = [partial_decrypt(shares[i], c, fingerprint=fp, context=("t",)) for i in (1, 3, 4)]
    assert combine(tpk, c, parts, fingerprint=fp, context=("t",)).m == 99


def test_check_share_file(ceremony: Path) -> None:
    pk = ceremony / "election-public-key.json"
    check_share_file(ceremony / "trustee-3.share.json", pk, PASSPHRASES[2])
    with pytest.raises(DecryptionError):
        check_share_file(ceremony / "trustee-3.share.json", pk, PASSPHRASES[1])


def test_check_share_file_other_key(ceremony: Path, tmp_path: Path) -> None:
    fixture = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "threshold-test-key-1024-3of5.json").read_text())
    other = tmp_path / "other-key.json"
    other.write_text(json.dumps(fixture["public_key"]))
    with pytest.raises(InvalidShare):
        check_share_file(ceremony / "trustee-1.share.json", other, PASSPHRASES[0])
    assert isinstance(ThresholdPublicKey.from_json(fixture["public_key"]), ThresholdPublicKey)


def test_refuses_to_overwrite(ceremony: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pfile = tmp_path / "p.txt"
    pfile.write_text("\n".join(PASSPHRASES))
    rc = main(["ceremony", "--trustees", "5", "--threshold", "3", "--bits", "1024", "--test-key",
               "--kdf-fast", "--out", str(ceremony), "--passphrase-file", str(pfile)])
    assert rc == 2
    assert "refusing to overwrite" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--trustees", "3", "--threshold", "4"], "--threshold"),
        (["--trustees", "3", "--threshold", "0"], "--threshold"),
        (["--trustees", "0", "--threshold", "0"], "--trustees"),
        (["--trustees", "3", "--threshold", "2", "--bits", "1024"], "--bits"),
        (["--trustees", "3", "--threshold", "2", "--bits", "1023", "--test-key"], "--bits"),
        (["--trustees", "3", "--threshold", "2", "--test-key", "--bits", "1024"], "passphrase file has 5"),
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args, message) -> None:
    pfile = tmp_path / "p.txt"
    pfile.write_text("\n".join(PASSPHRASES))
    rc = main(["ceremony", *args, "--out", str(tmp_path / "o"), "--passphrase-file", str(pfile)])
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_missing_required_argument_exit_2(tmp_path: Path) -> None:
    assert main(["ceremony", "--trustees", "3", "--out", str(tmp_path)]) == 2
