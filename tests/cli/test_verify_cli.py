"""The command line: saylau verify, verify-audit, trustee, tally and bench."""

from __future__ import annotations

import copy
import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from audit.record import write_record
from crypto.keyfile import FAST_TEST_KDF, encrypt_share
from saylau.cli import main
from tests.recordgen import GeneratedElection, generate

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def _base() -> GeneratedElection:
    return generate(3)


@pytest.fixture()
def gen() -> GeneratedElection:
    return copy.deepcopy(_base())


@pytest.fixture()
def record(gen: GeneratedElection, tmp_path: Path) -> Path:
    return gen.write(tmp_path / "record")


def test_verify_subprocess_imports_no_web_stack(record: Path) -> None:
    code = (
        "import json, sys\n"
        "from saylau.cli import main\n"
        f"rc = main(['verify', {str(record)!r}, '--json', '--workers', '1'])\n"
        "print(json.dumps({'rc': rc, 'flask': 'flask' in sys.modules,"
        " 'sqlalchemy': 'sqlalchemy' in sys.modules, 'app': 'app' in sys.modules}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    status = json.loads(lines[-1])
    assert status == {"rc": 0, "flask": False, "sqlalchemy": False, "app": False}
    report = json.loads("\n".join(lines[:-1]))
    assert report["valid"] is True
    assert set(report) == {"valid", "election_id", "checks", "tally", "verdict"}


def test_verify_module_entry_point(record: Path, gen: GeneratedElection) -> None:
    proc = subprocess.run([sys.executable, "-m", "saylau", "verify", str(record), "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["tally"] == gen.expected_results()


def test_verify_human_output(record: Path, gen: GeneratedElection,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(record), "--workers", "1"]) == 0
    text = capsys.readouterr().out
    assert "RESULT: the record is VALID" in text
    assert "[PASS] ballot-proofs" in text
    expected = gen.expected_results()["mayor"]
    for option, count in expected.items():
        assert f"    {option}: {count}\n" in text


def test_verify_expected_fingerprint(record: Path, gen: GeneratedElection,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(record), "--workers", "1",
                 "--fingerprint", gen.fingerprint.hex()]) == 0
    assert main(["verify", str(record), "--workers", "1", "--json",
                 "--fingerprint", "11" * 32]) == 1
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{"):])
    assert [c["name"] for c in report["checks"] if not c["ok"]] == ["election-fingerprint"]
    assert report["tally"] is None


@pytest.mark.parametrize("argv, message", [
    (["verify", "{tmp}/nope"], "no such file"),
    (["verify", "{tmp}/empty"], "record-index.json"),
    (["verify", "{record}", "--receipt", "{tmp}/missing.json"], "no such file"),
    (["verify", "{record}", "--receipt", "{tmp}/garbage.json"], "not valid JSON"),
    (["verify", "{record}", "--receipt", "{tmp}/list.json"], "expected a JSON object"),
    (["verify", "{record}", "--fingerprint", "xyz"], "--fingerprint"),
    (["verify", "{record}", "--workers", "0"], "--workers"),
    (["verify"], "required"),
    (["verify-audit", "--election", "{tmp}/nope.json", "--audited", "{tmp}/list.json"],
     "no such file"),
    (["trustee", "upload", "--server", "http://x"], "required"),
    (["trustee", "decrypt", "--record", "{tmp}/nope", "--share", "x", "--out", "y"],
     "cannot read the record"),
    (["tally", "--record", "{record}", "--partials", "{tmp}/missing.json", "--out", "{tmp}/o"],
     "no such file"),
])
def test_usage_errors_exit_2(argv: list[str], message: str, record: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "garbage.json").write_text("{nope")
    (tmp_path / "list.json").write_text("[]")
    args = [a.format(tmp=tmp_path, record=record) for a in argv]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_verify_audit(gen: GeneratedElection, record: Path, tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    entry = gen.board[1]
    assert entry["kind"] == "audited"
    audited = tmp_path / "audited.json"
    audited.write_text(json.dumps(entry))
    for election in (record, record / "election.json"):
        assert main(["verify-audit", "--election", str(election), "--audited", str(audited)]) == 0
        assert "Dana" in capsys.readouterr().out  # CHOICES[3]: mayor dana, council a + c
    assert main(["verify-audit", "--election", str(record), "--audited", str(audited),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["choices"] == {
        "mayor": ["dana"], "council": ["a", "c"], "budget": []}
    public = tmp_path / "public.json"
    public.write_text(json.dumps({"manifest": gen.manifest.to_json(),
                                  "election_public_key": gen.tpk.to_json()}))
    assert main(["verify-audit", "--election", str(public), "--audited", str(audited)]) == 0
    capsys.readouterr()
    # the device lied: it claims "bolat" but the ciphertext says "dana"
    lie = copy.deepcopy(entry)
    lie["secrets"]["mayor"]["dana"]["m"] = 0
    lie["secrets"]["mayor"]["bolat"]["m"] = 1
    audited.write_text(json.dumps(lie))
    assert main(["verify-audit", "--election", str(record), "--audited", str(audited)]) == 1
    assert "does not open" in capsys.readouterr().err


def _share_files(gen: GeneratedElection, tmp_path: Path) -> tuple[Path, Path, Path]:
    public = tmp_path / "election-public-key.json"
    public.write_text(json.dumps(gen.tpk.to_json()))
    sealed = tmp_path / "trustee-2.share.json"
    sealed.write_text(json.dumps(encrypt_share(gen.shares[1], "correct horse",
                                               kdf=FAST_TEST_KDF)))
    phrase = tmp_path / "pass.txt"
    phrase.write_text("correct horse\n")
    return public, sealed, phrase


def test_trustee_check_share(gen: GeneratedElection, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    public, sealed, phrase = _share_files(gen, tmp_path)
    assert main(["trustee", "check-share", "--share", str(sealed), "--public-key", str(public),
                 "--passphrase-file", str(phrase)]) == 0
    assert "share 2 of 5" in capsys.readouterr().out
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("battery staple\n")
    assert main(["trustee", "check-share", "--share", str(sealed), "--public-key", str(public),
                 "--passphrase-file", str(wrong)]) == 2
    assert "passphrase" in capsys.readouterr().err
    bad = gen.shares[1].to_json()
    bad["s"] = format(int(bad["s"], 16) + 1, "x")
    plain = tmp_path / "bad-share.json"
    plain.write_text(json.dumps(bad))
    assert main(["trustee", "check-share", "--share", str(plain), "--public-key",
                 str(public)]) == 1
    assert "verification key" in capsys.readouterr().err


def test_trustee_decrypt_then_tally(gen: GeneratedElection, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Closed election: trustees verify and decrypt; officials combine and publish."""
    pre = write_record(tmp_path / "pre", gen.rebuild(tally=False), gen.board_key)
    _, sealed, phrase = _share_files(gen, tmp_path)
    plain = []
    for i in (4, 5):
        p = tmp_path / f"share-{i}.json"
        p.write_text(json.dumps(gen.shares[i - 1].to_json()))
        plain.append(p)
    outs = []
    for i, share in ((2, sealed), (4, plain[0]), (5, plain[1])):
        out = tmp_path / f"partials-{i}.json"
        assert main(["trustee", "decrypt", "--record", str(pre), "--share", str(share),
                     "--passphrase-file", str(phrase), "--out", str(out)]) == 0
        assert json.loads(out.read_text())["trustee_index"] == i
        outs.append(str(out))
    seed = tmp_path / "board.seed"
    seed.write_text(gen.board_key.to_seed_hex())
    final = tmp_path / "final"
    assert main(["tally", "--record", str(pre), "--partials", *outs, "--out", str(final),
                 "--board-key", str(seed)]) == 0
    capsys.readouterr()
    assert main(["verify", str(final), "--json", "--workers", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["tally"] == gen.expected_results()
    # without the board key: only the tally files
    loose = tmp_path / "loose"
    assert main(["tally", "--record", str(pre), "--partials", *outs, "--out", str(loose)]) == 0
    assert sorted(p.name for p in loose.iterdir()) == [
        "encrypted-tally.json", "partial-decryptions.json", "results.json"]
    # only two partial files: not enough to decrypt
    assert main(["tally", "--record", str(pre), "--partials", *outs[:2], "--out",
                 str(tmp_path / "x")]) == 1
    assert "needed" in capsys.readouterr().err


def test_trustee_refuses_tampered_board(gen: GeneratedElection, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    gen.board[0]["signature"] = "00" * 64
    gen.rebuild(resign_heads=True, tally=False)
    pre = gen.write(tmp_path / "pre")
    share = tmp_path / "share.json"
    share.write_text(json.dumps(gen.shares[0].to_json()))
    out = tmp_path / "p.json"
    assert main(["trustee", "decrypt", "--record", str(pre), "--share", str(share),
                 "--out", str(out)]) == 1
    assert "refusing to decrypt" in capsys.readouterr().err
    assert not out.exists()


def test_bench_quick(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "crypto", "--quick", "--json"]) == 0
    crypto_rows = json.loads(capsys.readouterr().out)
    assert crypto_rows[0]["bits"] == 1024
    assert set(crypto_rows[0]["ops"]) == {"encrypt", "prove 0/1", "verify 0/1"}
    assert main(["bench", "verify", "--quick", "--ballots", "2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["ballots"] == 2 and rows[0]["batch_ballots_per_s"] > 0
    end = rows[0]["end_to_end"]  # saylau verify on a generated, tallied record
    assert end["ballots"] == 2 and end["verify_exit"] == 0 and end["verify_valid"] is True
    assert end["verify_cpu_s"] > 0 and end["floor_exps_per_ballot"] > 0
    assert main(["bench", "verify", "--bits", "1000"]) == 2
