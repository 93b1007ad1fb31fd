#!/usr/bin/python3
"""asyncio / uvloop echo server with a Protocol, as vmbench's protocol echo.

Usage: asyncio_echo.py PORT [echo|sink] [asyncio|uvloop]
Run with Debian's /usr/bin/python3 (python3-uvloop). Prints "ready" once
listening; runs until killed. asyncio sets TCP_NODELAY on its TCP
transports itself (3.6+), and so does uvloop.
"""
import asyncio
import sys


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def connection_lost(self, exc):
        self.transport = None


class SinkProtocol(asyncio.Protocol):
    def data_received(self, data):
        pass


async def serve(port, protocol):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, "127.0.0.1", port, backlog=4096, reuse_address=True)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def main():
    port = int(sys.argv[1])
    protocol = SinkProtocol if len(sys.argv) > 2 and sys.argv[2] == "sink" else EchoProtocol
    if len(sys.argv) > 3 and sys.argv[3] == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(serve(port, protocol))


if __name__ == "__main__":
    main()
