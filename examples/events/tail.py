#!/usr/bin/env python3
"""Print every NATS message on a subject: the subject, the identity headers
and the JSON body, pretty-printed. Needs the PyPI package nats-py.

    tail.py [URL] [SUBJECT] [--ready FILE]

URL defaults to nats://127.0.0.1:4222 and SUBJECT to `nix.event.>`.
--ready names a file created once the subscription is in place.
"""

import argparse
import asyncio
import json
import sys

import nats


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="nats://127.0.0.1:4222")
    parser.add_argument("subject", nargs="?", default="nix.event.>")
    parser.add_argument("--ready", help="file to create once subscribed")
    args = parser.parse_args()

    async def show(msg) -> None:
        headers = msg.headers or {}
        print(f"--- {msg.subject}")
        for name in ("X-Correlation-ID", "X-Causation-ID"):
            print(f"    {name}: {headers.get(name, '-')}")
        try:
            print(json.dumps(json.loads(msg.data), indent=2))
        except ValueError:
            print(msg.data.decode(errors="replace"))
        sys.stdout.flush()

    client = await nats.connect(args.url)
    await client.subscribe(args.subject, cb=show)
    await client.flush()  # the server has the subscription
    print(f"tail: listening on {args.subject} at {args.url}", flush=True)
    if args.ready:
        open(args.ready, "w").close()
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
