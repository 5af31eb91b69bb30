"""The page's own files: the installable web app (manifest, service worker, icons, favicon) is served, and every
file the service worker keeps for offline use exists (a missing one would make its install fail)."""

from __future__ import annotations

import json
import re

import pytest


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from inkmath.web.app import create_app

    return TestClient(create_app("mnist", None))


def test_manifest_service_worker_and_favicon_are_served(client):
    r = client.get("/manifest.webmanifest")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/manifest+json")
    manifest = r.json()
    assert manifest["display"] == "standalone" and manifest["start_url"].startswith("/")
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        got = client.get(icon["src"])
        assert got.status_code == 200 and got.headers["content-type"] == icon["type"], icon
    sw = client.get("/sw.js")
    assert sw.status_code == 200 and "javascript" in sw.headers["content-type"]
    assert sw.headers["cache-control"] == "no-cache"  # a new page version reaches the browser at once
    fav = client.get("/favicon.ico")
    assert fav.status_code == 200 and fav.content[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_every_file_the_service_worker_keeps_exists(client):
    sw = client.get("/sw.js").text
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", sw, re.S).group(1))
    page = client.get("/").text
    for src in re.findall(r'(?:src|href)="(/[^"]*)"', page):
        assert src in shell, f"{src} is used by the page but not kept for offline use"
    for module in re.findall(r'from "\./([a-z]+\.js)"', client.get("/static/app.js").text):
        assert f"/static/{module}" in shell
    for url in shell:
        assert client.get(url).status_code == 200, url
