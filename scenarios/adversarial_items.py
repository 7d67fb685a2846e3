"""Items an encoder can get wrong: newlines inside values (JSON Lines must escape them; SSE must split
multi-line data into ``data:`` lines on CR, LF and CRLF only), U+2028 (a line end for
``str.splitlines``, not for the event stream), quotes, backslashes, non-ASCII, a NaN (no JSON has
one: it must go out as null), look-alikes of SSE fields and comments, an empty name, and a field the
page's ``Item`` does not declare (``secret``: a declared model filters it out)."""

from harness import scenario

adversarial_items = scenario(
    "adversarial-items",
    items=[
        {"name": "two\nlines", "description": "a \"quoted\" \\ backslash"},
        {"name": "cr\rand crlf\r\nend", "description": None},
        {"name": "line\u2028separator", "description": "para\u2029graph \u0085 next"},
        {"name": "data: not a field", "description": ": not a comment", "secret": "filtered by the model"},
        {"name": "naïve café ☕ 😀 中文", "description": "nan below", "score": float("nan")},
        {"name": "", "description": "trailing newline\n"},
        {"name": "id: 9\nevent: fake\nretry: 1", "description": "\u0000 NUL and \u001f unit separator"},
    ],
    description="newlines, CR, U+2028, quotes, non-ASCII, NaN, SSE look-alikes, an undeclared field",
)
