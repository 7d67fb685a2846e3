"""Multibyte UTF-8 text cut into bytes chunks whose boundaries fall inside characters (C6): a
framework or server that decodes chunk by chunk would break them; they must arrive intact."""

from harness import scenario

_TEXT = "café — naïve 漢字 😀 Ωmega ü".encode("utf-8")

utf8_split = scenario(
    "utf8-split",
    description="UTF-8 text in 3-byte slices, so most boundaries split a character.",
    chunks=[_TEXT[i:i + 3] for i in range(0, len(_TEXT), 3)],
    media_type="text/plain; charset=utf-8",
)
