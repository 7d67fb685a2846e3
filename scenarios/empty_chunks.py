"""Empty chunks between others. What is sent for them is documented, not required: in-process
Starlette sends an empty body message (more_body true) for each; over HTTP/1.1 a zero-length chunk
would end the body, so servers send nothing for them. chunk-order compares the non-empty chunks;
lock-step never waits for an empty one."""

from harness import scenario

empty_chunks = scenario(
    "empty-chunks",
    description='b"" and "" chunks at the start, in the middle, twice in a row and at the end.',
    chunks=["", "first", "", "", "second", "", "third", ""],
    media_type="text/plain; charset=utf-8",
)
