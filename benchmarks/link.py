"""A link with a round trip that varies: a TCP proxy on loopback that holds each request
``latency * (1 ± jitter)`` (uniformly) before passing it on, in order, per connection.

Any server can sit behind it (the sandbox, ../shared/fakebsg), so that the same jittery
link is met whoever wrote the server. Bounded: it serves loopback only and ends with its
parent (its standard input closing).

    python benchmarks/link.py TARGET_PORT LATENCY JITTER SEED  # prints the port it listens on
"""

from __future__ import annotations

import asyncio
import random
import sys


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: random.Random | None,
    latency: float, jitter: float,
) -> None:  # fmt: skip
    """Copy bytes; with ``delay``, each chunk waits its turn, never overtaking the one before."""
    loop = asyncio.get_running_loop()
    due = 0.0
    try:
        while data := await reader.read(65536):
            if delay is not None:
                due = max(due, loop.time() + latency * (1 + delay.uniform(-jitter, jitter)))
                await asyncio.sleep(max(0.0, due - loop.time()))
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def _serve(target: int, latency: float, jitter: float, seed: int) -> None:
    dice = random.Random(seed)

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            writer.close()
            return
        own = random.Random(dice.random())
        await asyncio.gather(
            _pipe(reader, up_writer, own, latency, jitter),
            _pipe(up_reader, writer, None, latency, jitter),
        )

    server = await asyncio.start_server(connection, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent goes


def main() -> None:
    target, latency, jitter, seed = sys.argv[1:5]
    asyncio.run(_serve(int(target), float(latency), float(jitter), int(seed)))


if __name__ == "__main__":
    main()
