"""The page's image sample: a PNG in a BytesIO, iterated line by line inside a `with` block."""

import io

from harness import scenario
from harness.page_assets import binary_image

png = scenario(
    "png",
    description="The page's 29x29 PNG, streamed from an in-memory file as PNGStreamingResponse does.",
    chunks=list(io.BytesIO(binary_image)),
    source="file-like",
    media_type="image/png",
    page_sample="png",
)
