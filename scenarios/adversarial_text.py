"""Text chunks that a JSON encoder, an escaper or a re-encoder would visibly change (C2, C5)."""

from harness import scenario

adversarial_text = scenario(
    "adversarial-text",
    description="JSON look-alikes, quotes, backslashes, newlines, non-ASCII and NUL as str chunks.",
    chunks=[
        '{"looks": "like JSON", "n": 1}',
        "[1, 2, 3]",
        '"a quoted string"',
        "null",
        "back\\slash and \\n an escaped newline",
        "a real\nnewline and a\ttab\r\n",
        "caf\u00e9 na\u00efve \u00fcber \u2014 \u6f22\u5b57 \U0001f600",
        "NUL:\x00:end",
        "\u2028line separator\u2029",
        "'single quotes' and <tags> & ampersands",
    ],
    media_type="text/plain; charset=utf-8",
)
