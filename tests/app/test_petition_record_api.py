"""GET /api/v1/petitions/<id>/record.zip: the downloadable, verifiable petition record."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from app.db import get_engine
from audit.record import read_record
from audit.verifier import verify_record
from saylau.cli import main
from tally.petition import EncryptedRegionTally, trustee_decrypt_regions
from tests.app.petitions_helpers import (
    citizen,
    info,
    moderator,
    open_petition,
    petition_app,
    sign,
    trustee_shares,
)

REGIONS = ["abai", "jetisu", "astana"]


@pytest.fixture()
def papp(tmp_path: Path, issuer_test_key: Any) -> Any:
    application = petition_app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path, issuer_test_key)
    yield application
    get_engine(application).dispose()


def _post_partials(client: Any, pid: int, tally: dict[str, Any], trustees: tuple[int, ...]) -> Any:
    fp = bytes.fromhex(info(client, pid)["fingerprint"])
    et = EncryptedRegionTally.from_json(tally["encrypted"])
    shares = {s.index: s for s in trustee_shares()}
    out = None
    for idx in trustees:
        headers = citizen(client.application, client, f"trustee{idx}.{pid}.{tally['id']}@example.org",
                          ("trustee",))
        partial = trustee_decrypt_regions(shares[idx], et, fingerprint=fp)
        r = client.post(f"/api/v1/petitions/{pid}/tallies/{tally['id']}/partials",
                        json={"partial": partial.to_json()}, headers=headers)
        assert r.status_code == 201, r.get_json()
        out = r.get_json()
    return out


def _download(client: Any, pid: int, path: Path) -> Path:
    r = client.get(f"/api/v1/petitions/{pid}/record.zip")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.mimetype == "application/zip"
    assert f'filename="petition-{pid}-record.zip"' in r.headers["Content-Disposition"]
    path.write_bytes(r.get_data())
    return path


def test_record_zip_verifies_with_the_right_counts(papp: Any, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    client = papp.test_client()
    mod = moderator(papp, client)
    pid, _ = open_petition(papp, client, mod, regions=REGIONS)
    chosen = ["abai", "astana", "astana", "jetisu"]
    for i, region in enumerate(chosen):
        sign(client, citizen(papp, client, f"s{i}@example.org"), pid, region)
    # 409 before any tally, and while a tally lacks k partials
    r = client.get(f"/api/v1/petitions/{pid}/record.zip")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_decrypted"
    r = client.post(f"/api/v1/petitions/{pid}/invalidations",
                    json={"target_index": 1, "reason_code": "fraud_suspected"}, headers=mod)
    assert r.status_code == 201
    tally = client.post(f"/api/v1/petitions/{pid}/tallies", headers=mod).get_json()
    _post_partials(client, pid, tally, (2,))
    assert client.get(f"/api/v1/petitions/{pid}/record.zip").status_code == 409
    out = _post_partials(client, pid, tally, (4, 5))
    assert out["results"]["counts"] == {"abai": 1, "jetisu": 1, "astana": 1}
    # a signature after the tally: on the board, verified, not in this tally
    sign(client, citizen(papp, client, "late@example.org"), pid, "abai")

    path = _download(client, pid, tmp_path / "record.zip")
    with zipfile.ZipFile(BytesIO(path.read_bytes())) as archive:
        board = json.loads(archive.read("board.json"))
    assert [e["kind"] for e in board] == ["signature"] * 4 + ["invalidation", "signature"]
    record = read_record(path)
    assert record.kind == "petition"
    report = verify_record(record)
    assert report.valid, [c.to_json() for c in report.failed()]
    assert report.tally == {"regions": {"abai": 1, "jetisu": 1, "astana": 1}}

    assert main(["verify", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is True and doc["petition_id"] == f"petition:{pid}"
    assert doc["tally"] == {"regions": {"abai": 1, "jetisu": 1, "astana": 1}}
    fp = info(client, pid)["fingerprint"]
    assert main(["verify", str(path), "--fingerprint", fp]) == 0
    capsys.readouterr()

    page = client.get(f"/petitions/{pid}").get_data(as_text=True)
    assert f'href="/api/v1/petitions/{pid}/record.zip"' in page
    assert "Download the verifiable record" in page and "saylau verify" in page
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "application/zip" in json.dumps(doc["paths"]["/petitions/{petition_id}/record.zip"])


def test_record_zip_after_close(papp: Any, tmp_path: Path) -> None:
    client = papp.test_client()
    mod = moderator(papp, client)
    pid, _ = open_petition(papp, client, mod, regions=REGIONS)
    sign(client, citizen(papp, client, "only@example.org"), pid, "jetisu")
    closed = client.post(f"/api/v1/petitions/{pid}/close", headers=mod).get_json()
    _post_partials(client, pid, closed["tally"], (1, 3, 5))
    report = verify_record(_download(client, pid, tmp_path / "closed.zip"))
    assert report.valid, [c.to_json() for c in report.failed()]
    assert report.tally == {"regions": {"abai": 0, "jetisu": 1, "astana": 0}}


def test_record_zip_unknown_or_hidden(papp: Any) -> None:
    client = papp.test_client()
    assert client.get("/api/v1/petitions/999/record.zip").status_code == 404
