"""``stream-harness versions``: release lines from a simple-API index served on 127.0.0.1.

The index is a real HTTP server on loopback serving what PyPI serves (PEP 691 JSON, or PEP 503
HTML), so the command's own network path runs; pre-releases and yanked releases are left out.
"""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest

from harness.cli import main
from harness.commands.versions import BEGIN, END

FILES = [  # (file name, yanked)
    ("fastapi-0.133.1-py3-none-any.whl", False),
    ("fastapi-0.134.0-py3-none-any.whl", False), ("fastapi-0.134.0.tar.gz", False),
    ("fastapi-0.135.0-py3-none-any.whl", False),
    ("fastapi-0.135.1-py3-none-any.whl", False),
    ("fastapi-0.135.2-py3-none-any.whl", "broken release"),  # yanked: 0.135.1 is the line's newest
    ("fastapi-0.136.0rc1-py3-none-any.whl", False),            # a pre-release only: no 0.136 line
    ("fastapi-0.137.0.tar.gz", False),
    ("fastapi-0.137.1.dev0.tar.gz", False),
]


class _Index(http.server.BaseHTTPRequestHandler):
    html = False

    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path.rstrip("/") != "/simple/fastapi":
            self.send_error(404)
            return
        if self.html:
            yanked = ' data-yanked=""'
            links = "".join(f'<a href="../../f/{n}#sha256=0"{yanked if y else ""}>{n}</a><br>' for n, y in FILES)
            body, kind = f"<html><body>{links}</body></html>".encode(), "text/html"
        else:
            body = json.dumps({"meta": {"api-version": "1.1"}, "name": "fastapi",
                               "files": [{"filename": n, "url": f"../f/{n}", "hashes": {}, "yanked": y}
                                         for n, y in FILES]}).encode()
            kind = "application/vnd.pypi.simple.v1+json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(params=["json", "html"])
def index(request):
    handler = type("Handler", (_Index,), {"html": request.param == "html"})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_lines_are_the_newest_final_release_of_each_minor(index, capsys):
    assert main(["versions", "--index-url", index]) == 0
    assert capsys.readouterr().out.split() == ["0.134.0", "0.135.1", "0.137.0"]
    assert main(["versions", "--index-url", index, "--all"]) == 0
    assert capsys.readouterr().out.split() == ["0.134.0", "0.135.0", "0.135.1", "0.137.0"]


def test_github_matrix_and_tox_formats(index, capsys):
    assert main(["versions", "--index-url", index, "--format", "github-matrix"]) == 0
    matrix = json.loads(capsys.readouterr().out)
    assert matrix["include"][:3] == [{"toxenv": "fastapi-0.134", "fastapi": "0.134.0"},
                                     {"toxenv": "fastapi-0.135", "fastapi": "0.135.1"},
                                     {"toxenv": "fastapi-0.137", "fastapi": "0.137.0"}]
    assert matrix["include"][-1]["toxenv"] == "pre"
    assert main(["versions", "--index-url", index, "--format", "tox"]) == 0
    block = capsys.readouterr().out
    assert block.startswith(BEGIN) and block.rstrip().endswith(END)
    assert "[testenv:fastapi-0.135]\ndeps = fastapi==0.135.1\n" in block
    assert "    lines = fastapi-0.134, fastapi-0.135, fastapi-0.137\n" in block


def test_write_tox_rewrites_only_the_generated_block(index, tmp_path, capsys):
    tox = tmp_path / "tox.ini"
    tox.write_text(f"[tox]\nrequires = tox-uv\n{BEGIN}\nenv_list = old\n{END}\n\n[testenv]\ncommands = x\n")
    assert main(["versions", "--index-url", index, "--write-tox", str(tox)]) == 0
    text = tox.read_text()
    assert text.startswith("[tox]\nrequires = tox-uv\n" + BEGIN) and text.endswith(f"{END}\n\n[testenv]\ncommands = x\n")
    assert "env_list =\n    fastapi-0.134\n    fastapi-0.135\n    fastapi-0.137\n    pre\n" in text
    assert "old" not in text
    assert main(["versions", "--index-url", index, "--write-tox", str(tox)]) == 0
    assert "already up to date" in capsys.readouterr().out and tox.read_text() == text
    tox.write_text("[tox]\n")
    assert main(["versions", "--index-url", index, "--write-tox", str(tox)]) == 2
    assert "no generated block" in capsys.readouterr().err


def test_an_unreachable_index_is_a_clear_error_exit_2(capsys):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["versions", "--index-url", f"http://127.0.0.1:{port}/simple", "--timeout", "5"]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach the package index at http://127.0.0.1:{port}/simple/fastapi/" in err


def test_the_shipped_tox_ini_has_a_generated_block_with_env_per_line():
    text = (Path(__file__).resolve().parent.parent / "tox.ini").read_text()
    block = text[text.index(BEGIN):text.index(END)]
    assert "[testenv:fastapi-0.134]\ndeps = fastapi==0.134.0\n" in block
    for env in ("[testenv:first]", "[testenv:latest]", "[testenv:pre]", "[testenv:local]", "fastapi==0.133.1"):
        assert env in text
