"""Audio generated on the fly (the page's "audio or video generated on the fly"): a WAV header,
then 16-bit PCM samples of a sine tone in 4 KiB blocks, computed as they are asked for and never
held whole by the route (`source="generator"`)."""

import math
import struct

from harness import scenario

RATE, SECONDS, BLOCK_SAMPLES = 16_000, 2, 2048
SAMPLES = RATE * SECONDS


def wav():
    data_size = SAMPLES * 2
    yield (b"RIFF" + struct.pack("<I", 36 + data_size) + b"WAVEfmt "
           + struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE * 2, 2, 16) + b"data" + struct.pack("<I", data_size))
    for start in range(0, SAMPLES, BLOCK_SAMPLES):
        n = min(BLOCK_SAMPLES, SAMPLES - start)
        yield struct.pack(f"<{n}h", *(int(12000 * math.sin(2 * math.pi * 440 * (start + i) / RATE))
                                      for i in range(n)))


generated_media = scenario(
    "generated-media",
    description="A 2 s 440 Hz WAV tone: a 44-byte header, then 16 blocks of PCM samples made on the fly.",
    chunks=wav,
    source="generator",
    media_type="audio/wav",
)
