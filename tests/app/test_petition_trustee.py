"""Petition region tallies end to end: ``saylau trustee petition-*`` and the trustee page,
then the petition page's map (accessible SVG, legend, table) and readable dates."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.db import get_engine
from app.petitions import region_map
from saylau.cli import main
from tests.app.petitions_helpers import (
    KEY_DOC,
    PASSWORD,
    citizen,
    moderator,
    open_petition,
    petition_app,
    sign,
)
from tests.app.test_concurrency import _serve

REGIONS = ["abai", "jetisu", "astana", "almaty"]


@pytest.fixture()
def papp(tmp_path: Path, issuer_test_key: Any) -> Any:
    application = petition_app(f"sqlite:///{tmp_path / 'p.db'}", tmp_path, issuer_test_key)
    yield application
    get_engine(application).dispose()


def _share_file(tmp_path: Path, index: int) -> Path:
    path = tmp_path / f"trustee-{index}.json"
    path.write_text(json.dumps(next(s for s in KEY_DOC["shares"] if s["index"] == index)))
    return path


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token"
    return m.group(1)


def _web_login(client: Any, email: str) -> None:
    token = _csrf(client.get("/auth/login").get_data(as_text=True))
    r = client.post("/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code in (302, 303)


def test_trustees_decrypt_with_the_cli_and_the_page_then_the_map_shows(
        papp: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    client = papp.test_client()
    mod = moderator(papp, client)
    pid, _ = open_petition(papp, client, mod, regions=REGIONS)
    for i, region in enumerate(["abai", "astana", "astana"]):
        sign(client, citizen(papp, client, f"s{i}@example.org"), pid, region)
    citizen(papp, client, "trustee1@example.org", ("trustee",))
    citizen(papp, client, "trustee2@example.org", ("trustee",))
    (tmp_path / "pw").write_text(PASSWORD + "\n")
    server, url = _serve(papp)
    try:
        # nothing requested yet: decrypt refuses, listing says so
        assert main(["trustee", "petition-tallies", "--server", url, "--petition", str(pid)]) == 0
        assert "no region tally requested" in capsys.readouterr().out
        out1 = tmp_path / "p1.json"
        assert main(["trustee", "petition-decrypt", "--server", url, "--petition", str(pid),
                     "--share", str(_share_file(tmp_path, 1)), "--out", str(out1)]) == 1
        assert "no region tally is waiting" in capsys.readouterr().err
        tally = client.post(f"/api/v1/petitions/{pid}/tallies", headers=mod).get_json()
        # a wrong expected fingerprint stops everything before the share is opened
        assert main(["trustee", "petition-decrypt", "--server", url, "--petition", str(pid),
                     "--share", str(_share_file(tmp_path, 1)), "--fingerprint", "00" * 32,
                     "--out", str(out1)]) == 1
        assert "fingerprint differs" in capsys.readouterr().err and not out1.exists()
        assert main(["trustee", "petition-decrypt", "--server", url, "--petition", str(pid),
                     "--share", str(_share_file(tmp_path, 1)), "--out", str(out1)]) == 0
        assert "3 signatures over 3 board entries, all verified" in capsys.readouterr().out
        doc = json.loads(out1.read_text())
        assert doc["format"] == "saylau-petition-partial/v1" and doc["tally_id"] == tally["id"]
        # upload by the CLI (trustee 1); a second upload of the same partial is refused
        up = ["trustee", "petition-upload", "--server", url, "--petition", str(pid),
              "--partial", str(out1), "--email", "trustee1@example.org",
              "--password-file", str(tmp_path / "pw")]
        assert main(up) == 0
        assert "waiting for more trustees" in capsys.readouterr().out
        assert main(up) == 1
        assert "duplicate_partial" in capsys.readouterr().err
        assert main(["trustee", "petition-tallies", "--server", url, "--petition", str(pid)]) == 0
        assert "1/3 partials" in capsys.readouterr().out
        out2 = tmp_path / "p2.json"
        assert main(["trustee", "petition-decrypt", "--server", url, "--petition", str(pid),
                     "--tally", str(tally["id"]), "--share", str(_share_file(tmp_path, 2)),
                     "--out", str(out2)]) == 0
        out3 = tmp_path / "p3.json"
        assert main(["trustee", "petition-decrypt", "--server", url, "--petition", str(pid),
                     "--share", str(_share_file(tmp_path, 3)), "--out", str(out3)]) == 0
    finally:
        server.shutdown()

    # trustee 2 on the page: the page lists the tally and the command; a tampered file is refused
    web = papp.test_client()
    _web_login(web, "trustee2@example.org")
    page = web.get("/petitions/trustee?lang=en").get_data(as_text=True)
    assert f"--petition {pid} --tally {tally['id']}" in page and "1 of 3 trustees uploaded" in page
    token = _csrf(page)
    bad = json.loads(out2.read_text())
    c_i = int(bad["partial"]["c_i"], 16)
    bad["partial"]["c_i"] = format(c_i * 4 % (1 << c_i.bit_length()) or 5, "x")  # not c^(2Δ·s_i)
    r = web.post(f"/petitions/{pid}/tallies/{tally['id']}/partial", data={
        "csrf_token": token, "partial_file": (io.BytesIO(json.dumps(bad).encode()), "p2.json")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "its proof does not verify" in r.get_data(as_text=True)
    r = web.post(f"/petitions/{pid}/tallies/{tally['id']}/partial", data={
        "csrf_token": token, "partial_file": (io.BytesIO(b"not json"), "x.json")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "not a partial decryption" in r.get_data(as_text=True)
    for path in (out2, out3):
        r = web.post(f"/petitions/{pid}/tallies/{tally['id']}/partial", data={
            "csrf_token": token, "partial_file": (io.BytesIO(path.read_bytes()), path.name)},
            content_type="multipart/form-data", follow_redirects=True)
        assert r.status_code == 200
        if path is out3:
            break
    html = r.get_data(as_text=True)
    assert "The by-region counts are published" in html

    # the petition page: the map (one img with title and desc), legend, table, readable dates
    for lang, name, none in (("en", "Abai", "no signatures"), ("ru", "Абай", "нет подписей"),
                             ("kk", "Абай", "қол жоқ")):
        page = papp.test_client().get(f"/petitions/{pid}?lang={lang}").get_data(as_text=True)
        svg = page.split('<svg xmlns="http://www.w3.org/2000/svg" class="region-map"', 1)[1].split("</svg>", 1)[0]
        assert 'role="img"' in svg and 'aria-labelledby="region-map-title region-map-desc"' in svg
        assert re.search(f"<title>[^<]*{name}[^<]*: 1</title>", svg)  # region names as translated
        assert 'class="map-q4" data-region="astana"' in svg or 'class="map-q4 map-city"' in svg
        assert 'data-region="jetisu"' in svg and "map-q0" in svg
        assert none in page
        table = page.split('<table class="region-table">', 1)[1].split("</table>", 1)[0]
        assert re.search(f'<th scope="row">[^<]*{name}[^<]*</th><td>1</td>', table)
        assert 'class="region-chart-figure" aria-hidden="true"' in page  # not read twice
        assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d+", page)  # no raw ISO timestamps
        assert " style=" not in page


def test_legend_classes_cover_every_count() -> None:
    entries = region_map.legend(10)
    assert [(e.low, e.high) for e in entries] == [(0, 0), (1, 2), (3, 5), (6, 7), (8, 10)]
    assert [region_map.css_class(n, entries) for n in (0, 1, 5, 6, 10)] == [
        "map-q0", "map-q1", "map-q2", "map-q3", "map-q4"]
    assert [(e.low, e.high) for e in region_map.legend(1)] == [(0, 0), (1, 1)]
    assert [(e.low, e.high) for e in region_map.legend(0)] == [(0, 0)]
    # every default region has a shape
    from app.petitions.common import DEFAULT_REGIONS
    assert {rid for rid, _ in DEFAULT_REGIONS} == set(region_map.shapes()["regions"])
