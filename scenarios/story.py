"""The page's first sample: the story's lines, yielded one by one (the first line is empty)."""

from harness import scenario
from harness.page_assets import message

story = scenario(
    "story",
    description="The page's `message`, split with splitlines() exactly as its samples do.",
    chunks=message.splitlines(),
    media_type="text/plain; charset=utf-8",
    page_sample="story",
)
