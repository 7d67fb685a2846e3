"""Binary lines from an in-memory file: NUL bytes, invalid UTF-8 and JSON look-alikes (C2, C5)."""

from harness import scenario

binary_lines = scenario(
    "binary-lines",
    description="A BytesIO whose lines hold bytes no text codec or JSON encoder may touch.",
    chunks=[
        b'{"json": true}\n',
        b"\x00\x01\x02 NUL and control bytes\n",
        b"\xff\xfe invalid UTF-8 \xc3\x28 \x80\n",
        b"\x89PNG\r\n",
        b'"quoted" \\backslash\\ \n',
        b"last line without a newline \xe2\x82",
    ],
    source="file-like",
    media_type="application/octet-stream",
)
