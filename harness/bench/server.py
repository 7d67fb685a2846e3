"""uvicorn as a process on 127.0.0.1 serving the benchmark app, with the harness's process control.

``ServerProcess`` (``engines/servers.py``) starts it in its own process group with a start deadline,
stops it with SIGTERM then SIGKILL, and at exit or on a signal; the kernel kills it if the harness
dies. The benchmark app has no control channel, so readiness is the server port alone.
"""

from __future__ import annotations

import socket
import sys
import time

from ..engines.servers import START_DEADLINE_S, ServerProcess, ServerSpec
from ..errors import HarnessError

__all__ = ["UVICORN", "BenchServer"]

# httptools (uvicorn's default parser when installed) on the stdlib asyncio loop: reproducible.
UVICORN = ServerSpec("uvicorn", ("uvicorn", "httptools"), "fastapi-stream-harness[uvicorn]", lambda port: [
    sys.executable, "-m", "uvicorn", "harness.bench.served_app:app", "--host", "127.0.0.1", "--port", str(port),
    "--http", "httptools", "--loop", "asyncio", "--lifespan", "on", "--log-level", "warning",
    "--no-access-log", "--timeout-graceful-shutdown", "2"])


class BenchServer(ServerProcess):
    """A ``ServerProcess`` that is ready when its HTTP port accepts a connection."""

    def _wait_ready(self) -> None:
        end = time.monotonic() + START_DEADLINE_S
        while True:
            if self.popen.poll() is not None:
                raise HarnessError(f"{self.spec.name} exited with {self.popen.returncode} while starting:\n"
                                   + self.log_tail())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1.0).close()
                return
            except OSError:
                if time.monotonic() > end:
                    raise HarnessError(f"{self.spec.name} did not accept connections on 127.0.0.1:{self.port} "
                                       f"within {START_DEADLINE_S:g} s:\n" + self.log_tail()) from None
                time.sleep(0.02)
