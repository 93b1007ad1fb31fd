#!/usr/bin/env python3
"""loopspec driver: a Python event loop under the loopspec harness.

Runs one event loop -- CPython's asyncio, uvloop, or whatever a MODULE:CALLABLE
factory returns -- and speaks the driver protocol of spec/driver-protocol.md
(version 2) on fd 3: JSON Lines, lock-step. The harness sends commands (loop
and transport methods); every callback the loop makes into a protocol, a
protocol factory, a scheduled callback or a finished operation is sent to the
harness as an event, and the driver waits inside that callback, executing the
commands the harness sends meanwhile, until the harness answers with the
callback's return value. So the loop sees the harness's protocols re-enter it
exactly as in-process protocols would.

usage: loopspec_driver.py --loop asyncio|uvloop|MODULE:CALLABLE [--python-path DIR]...

stdout and stderr are left to the loop; the driver writes its own diagnostics
to stderr, prefixed "loopspec driver:". Exit status: 0 after the harness's
"exit" command or when the harness closes the channel, 2 on a bad command
line or a loop that cannot be created, 3 on a protocol violation it cannot
report on the channel.
"""

import argparse
import array
import asyncio
import base64
import binascii
import builtins
import collections
import importlib
import json
import os
import platform
import select
import socket
import sys
import time

PROTOCOL_VERSION = 2
CHANNEL_FD = 3
MAX_MESSAGE = 1 << 20        # bytes per line, without the newline
MAX_INLINE_BLOB = 512 * 1024  # raw bytes sent inline as base64; longer data goes in chunk messages
MAX_STAGED = 256 << 20       # chunked bytes waiting for the message that uses them
RECEIVE_SIZE = 1 << 16

STREAM_CAPABILITIES = ["tcp", "unix", "buffered", "udp", "pipes", "subprocess"]

# The hot path runs once per callback: encoder, decoder and flags are built once.
ENCODE = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
DECODE = json.JSONDecoder().decode
READ_FLAGS = int(socket.MSG_CMSG_CLOEXEC | socket.MSG_DONTWAIT)
ANCILLARY_SIZE = socket.CMSG_SPACE(16 * 4)


class ProtocolViolation(Exception):
    """The harness sent something the protocol does not allow."""


def fatal(message, status=3):
    """Ends the driver at once: the loop must not catch this as a callback error."""
    sys.stderr.write("loopspec driver: " + message + "\n")
    sys.stderr.flush()
    os._exit(status)


def canonical_error(exc):
    """An exception as the harness compares it: class name, errno (0 if none), message."""
    code = getattr(exc, "errno", None)
    return {"type": type(exc).__name__, "errno": code if isinstance(code, int) else 0, "message": str(exc)}


def exception_from(error):
    """The exception to raise for a harness {"raise": ...}: the built-in class of that name when
    there is one (an Exception subclass), RuntimeError otherwise."""
    cls = getattr(builtins, error["type"], None)
    message = error["message"]
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        return RuntimeError("%s: %s" % (error["type"], message))
    if issubclass(cls, OSError) and error["errno"]:
        return cls(error["errno"], message)
    return cls(message)


def canonical_value(value):
    """get_extra_info results as JSON: tuples become arrays, dicts objects, sockets {"fd","family","type"},
    bytes (abstract Unix names) latin-1 text, anything else its repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    if isinstance(value, (tuple, list)):
        return [canonical_value(v) for v in value]
    if isinstance(value, dict):  # e.g. 'peercert'
        return {str(k): canonical_value(v) for k, v in value.items()}
    if hasattr(value, "family") and hasattr(value, "type") and hasattr(value, "fileno"):
        family, kind = value.family, value.type
        return {"fd": value.fileno(), "family": getattr(family, "name", str(family)),
                "type": getattr(kind, "name", str(kind))}
    return repr(value)


def wire_address(address):
    """A socket address as the harness's Address: [host, port] (IPv6's flowinfo and scope id
    dropped), or a Unix path as text."""
    if isinstance(address, (tuple, list)) and len(address) in (2, 4) and isinstance(address[0], str):
        return [address[0], address[1]]
    return canonical_value(address)


# ---- message validation ---------------------------------------------------------------------

class Field:
    """A field type: a name for errors and a check."""

    def __init__(self, name, check):
        self.name = name
        self.check = check


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


ID = Field("a positive integer", lambda v: _is_int(v) and v > 0)
INT = Field("an integer", _is_int)
OPT_INT = Field("an integer or null", lambda v: v is None or _is_int(v))
NUMBER = Field("a number", lambda v: (_is_int(v) or isinstance(v, float)))
BOOL = Field("a boolean", lambda v: isinstance(v, bool))
STRING = Field("a string", lambda v: isinstance(v, str))
OPT_STRING = Field("a string or null", lambda v: v is None or isinstance(v, str))
BLOB = Field("base64 text or {\"staged\": n}",
             lambda v: isinstance(v, str) or (isinstance(v, dict) and list(v) == ["staged"] and _is_int(v["staged"])
                                               and v["staged"] >= 0))
BLOBS = Field("a list of blobs", lambda v: isinstance(v, list) and all(BLOB.check(b) for b in v))
ADDRESS = Field("[host, port] or a Unix path",
                lambda v: isinstance(v, str) or (isinstance(v, list) and len(v) == 2 and isinstance(v[0], str)
                                                 and _is_int(v[1]) and 0 <= v[1] <= 65535))
OPT_ADDRESS = Field("an address or null", lambda v: v is None or ADDRESS.check(v))
KIND = Field("\"Protocol\" or \"BufferedProtocol\"", lambda v: v in ("Protocol", "BufferedProtocol"))
STRINGS = Field("a list of strings", lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v))
STDIO = Field("\"pipe\", \"devnull\", \"inherit\" or {\"fd\": n}",
              lambda v: v in ("pipe", "devnull", "inherit") or (isinstance(v, dict) and list(v) == ["fd"]
                                                                 and _is_int(v["fd"])))
ERROR = Field("{\"type\", \"errno\", \"message\"}",
              lambda v: isinstance(v, dict) and set(v) == {"type", "errno", "message"}
              and isinstance(v["type"], str) and _is_int(v["errno"]) and isinstance(v["message"], str))
TLS = Field("null or a TLS configuration object", lambda v: v is None or isinstance(v, dict))


def validate(message, what, fields, optional=()):
    """Checks a message's fields against {name: Field}; names in `optional` may be absent.
    Raises ProtocolViolation naming the message and the field."""
    for name, field in fields.items():
        if name not in message:
            if name in optional:
                continue
            raise ProtocolViolation("%s: field '%s' is missing" % (what, name))
        if not field.check(message[name]):
            raise ProtocolViolation("%s: field '%s' must be %s, got %s" % (
                what, name, field.name, json.dumps(message[name])[:80]))


# ---- the channel ----------------------------------------------------------------------------

class Channel:
    """JSON Lines over the Unix stream socket on fd 3, with SCM_RIGHTS descriptors.

    Two kinds of message need no answer and are handled as soon as they are read, whatever the
    driver is waiting for: "post" (call_soon_threadsafe from another harness thread) and "chunk"
    (bytes of a long blob, staged for the next message that names them)."""

    def __init__(self, fd, on_post):
        self.sock = socket.socket(fileno=fd)
        os.set_inheritable(fd, False)
        # The loop's add_reader may switch the descriptor to non-blocking (libuv does, for uvloop), so
        # every read and write here copes with EAGAIN by waiting in poll() itself.
        self.sock.setblocking(True)
        self.readable = select.poll()
        self.readable.register(fd, select.POLLIN)
        self.writable = select.poll()
        self.writable.register(fd, select.POLLOUT)
        self.on_post = on_post
        self.buffer = bytearray()
        self.fds = []
        self.staged = bytearray()
        self.messages = []  # complete lock-step messages read ahead (never more than one in practice)

    def fileno(self):
        return self.sock.fileno()

    def send(self, message):
        line = ENCODE(message).encode("ascii")
        if len(line) > MAX_MESSAGE:
            # Blobs are chunked, so only a driver bug gets here; raising would reach the loop as a
            # protocol's exception and change what it does.
            fatal("a %d-byte message to the harness exceeds the %d-byte limit: %s..." % (
                len(line), MAX_MESSAGE, line[:120].decode("ascii")))
        view = memoryview(line + b"\n")
        while view:
            try:
                sent = self.sock.send(view)
            except (BlockingIOError, InterruptedError):
                self.writable.poll()
                continue
            except OSError as e:
                fatal("the harness closed the channel (%s)" % e, 0)
            view = view[sent:]

    def send_blob(self, data):
        """A blob field's value; long data goes ahead in chunk messages."""
        data = bytes(data)
        if len(data) <= MAX_INLINE_BLOB:
            return base64.b64encode(data).decode("ascii")
        for start in range(0, len(data), MAX_INLINE_BLOB):
            self.send({"chunk": base64.b64encode(data[start:start + MAX_INLINE_BLOB]).decode("ascii")})
        return {"staged": len(data)}

    def take_blob(self, value, what):
        if isinstance(value, str):
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as e:
                raise ProtocolViolation("%s: not valid base64 (%s)" % (what, e))
        size = value["staged"]
        if size > len(self.staged):
            raise ProtocolViolation("%s: %d staged bytes named, %d staged" % (what, size, len(self.staged)))
        data = bytes(self.staged[:size])
        del self.staged[:size]
        return data

    def close_unused_fds(self):
        """Descriptors that came with a command and were not taken by it."""
        for fd in self.fds:
            os.close(fd)
        self.fds = []

    def take_fd(self, what):
        if not self.fds:
            raise ProtocolViolation("%s: names a descriptor but none came with the message" % what)
        return self.fds.pop(0)

    def receive(self):
        """The next lock-step message (blocking); posts and chunks met on the way are handled."""
        while not self.messages:
            self._read(block=True)
        return self.messages.pop(0)

    def poll(self):
        """Called by the loop when the channel is readable: reads what is there without blocking.
        Only posts and chunks may arrive while the loop is running between callbacks."""
        self._read(block=False)
        if self.messages:
            fatal("protocol violation: the harness sent %s while the loop was running between callbacks"
                  % json.dumps(self.messages[0])[:200])

    def _read(self, block):
        while True:
            if block:
                self.readable.poll()
            try:
                data, ancillary, _, _ = self.sock.recvmsg(RECEIVE_SIZE, ANCILLARY_SIZE, READ_FLAGS)
                break
            except (BlockingIOError, InterruptedError):
                if not block:
                    return
            except OSError as e:
                fatal("reading the channel failed: %s" % e, 0)
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
                self.fds.extend(fds)
        if not data:
            fatal("the harness closed the channel", 0)
        self.buffer += data
        while True:
            end = self.buffer.find(b"\n")
            if end < 0:
                if len(self.buffer) > MAX_MESSAGE:
                    fatal("protocol violation: a message from the harness exceeds %d bytes" % MAX_MESSAGE)
                return
            line = bytes(self.buffer[:end])
            del self.buffer[:end + 1]
            if len(line) > MAX_MESSAGE:
                fatal("protocol violation: a message from the harness exceeds %d bytes" % MAX_MESSAGE)
            if line.strip():
                self._dispatch(line)

    def _dispatch(self, line):
        try:
            message = DECODE(line.decode("utf-8"))
        except ValueError as e:
            self.report("a message from the harness is not JSON (%s): %r" % (e, line[:120]))
            return
        if not isinstance(message, dict):
            self.report("a message from the harness is not a JSON object: %r" % line[:120])
            return
        if "chunk" in message:
            if not isinstance(message["chunk"], str) or len(message) != 1:
                self.report("chunk: field 'chunk' must be base64 text and the only field")
                return
            try:
                self.staged += base64.b64decode(message["chunk"], validate=True)
            except (binascii.Error, ValueError) as e:
                self.report("chunk: field 'chunk': not valid base64 (%s)" % e)
                return
            if len(self.staged) > MAX_STAGED:
                fatal("protocol violation: more than %d staged bytes" % MAX_STAGED)
            return
        if "post" in message:
            self.on_post(message)
            return
        self.messages.append(message)

    def report(self, text):
        """A protocol violation the driver cannot answer in place: tell the harness, which fails."""
        sys.stderr.write("loopspec driver: protocol violation: " + text + "\n")
        self.send({"protocol_error": text})


# ---- protocols the loop calls ---------------------------------------------------------------

class _Proxy:
    """What the loop calls: every callback becomes an event answered by the harness."""

    def __init__(self, driver, pid):
        self._driver = driver
        self._pid = pid

    def connection_made(self, transport):
        self._driver.callback("connection_made", proto=self._pid, conn=self._driver.conn_id(transport))

    def connection_lost(self, exc):
        self._driver.callback("connection_lost", proto=self._pid, exc=None if exc is None else canonical_error(exc))

    def pause_writing(self):
        self._driver.callback("pause_writing", proto=self._pid)

    def resume_writing(self):
        self._driver.callback("resume_writing", proto=self._pid)

    def eof_received(self):
        return bool(self._driver.callback("eof_received", proto=self._pid))


class StreamProxy(_Proxy, asyncio.Protocol):
    def data_received(self, data):
        self._driver.callback("data_received", proto=self._pid, data=self._driver.channel.send_blob(data))


class BufferedProxy(_Proxy, asyncio.BufferedProtocol):
    def __init__(self, driver, pid):
        super().__init__(driver, pid)
        self._buffer = bytearray()

    def get_buffer(self, sizehint):
        size = self._driver.callback("get_buffer", proto=self._pid, sizehint=sizehint)
        if not _is_int(size) or size < 0:
            fatal("protocol violation: get_buffer's return must be a size >= 0, got %r" % (size,))
        self._buffer = bytearray(size)
        return memoryview(self._buffer)

    def buffer_updated(self, nbytes):
        data = self._driver.channel.send_blob(self._buffer[:max(0, nbytes)])
        self._driver.callback("buffer_updated", proto=self._pid, nbytes=nbytes, data=data)


class DatagramProxy(asyncio.DatagramProtocol):
    def __init__(self, driver, pid):
        self._driver = driver
        self._pid = pid

    def connection_made(self, transport):
        self._driver.callback("connection_made", proto=self._pid, conn=self._driver.conn_id(transport))

    def connection_lost(self, exc):
        self._driver.callback("connection_lost", proto=self._pid, exc=None if exc is None else canonical_error(exc))

    def pause_writing(self):
        self._driver.callback("pause_writing", proto=self._pid)

    def resume_writing(self):
        self._driver.callback("resume_writing", proto=self._pid)

    def datagram_received(self, data, addr):
        self._driver.callback("datagram_received", proto=self._pid, data=self._driver.channel.send_blob(data),
                              addr=wire_address(addr))

    def error_received(self, exc):
        self._driver.callback("error_received", proto=self._pid, exc=canonical_error(exc))


class SubprocessProxy(asyncio.SubprocessProtocol):
    def __init__(self, driver, pid):
        self._driver = driver
        self._pid = pid

    def connection_made(self, transport):
        self._driver.callback("connection_made", proto=self._pid, conn=self._driver.conn_id(transport))

    def connection_lost(self, exc):
        self._driver.callback("connection_lost", proto=self._pid, exc=None if exc is None else canonical_error(exc))

    def pause_writing(self):
        self._driver.callback("pause_writing", proto=self._pid)

    def resume_writing(self):
        self._driver.callback("resume_writing", proto=self._pid)

    def pipe_data_received(self, fd, data):
        self._driver.callback("pipe_data_received", proto=self._pid, fd=fd, data=self._driver.channel.send_blob(data))

    def pipe_connection_lost(self, fd, exc):
        self._driver.callback("pipe_connection_lost", proto=self._pid, fd=fd,
                              exc=None if exc is None else canonical_error(exc))

    def process_exited(self):
        self._driver.callback("process_exited", proto=self._pid)


PROXY_CLASSES = {"Protocol": StreamProxy, "BufferedProtocol": BufferedProxy, "DatagramProtocol": DatagramProxy,
                 "SubprocessProtocol": SubprocessProxy}


class StateReader:
    """Reads what the harness's recorder asks at every event: write buffer size and limits, closing,
    reading. A query the transport lacks or that raises is left out of the state."""

    QUERIES = (("wbuf", "get_write_buffer_size"), ("closing", "is_closing"), ("reading", "is_reading"))

    def __init__(self, transport):
        self.queries = [(key, getattr(transport, name)) for key, name in self.QUERIES
                        if callable(getattr(transport, name, None))]
        limits = getattr(transport, "get_write_buffer_limits", None)
        self.limits = limits if callable(limits) else None

    def read(self):
        state = {}
        for key, query in self.queries:
            try:
                value = query()
            except Exception:
                continue
            if key != "wbuf":
                state[key] = bool(value)
            elif _is_int(value):
                state[key] = value
        if self.limits is not None:
            try:
                low, high = self.limits()
                if _is_int(low) and _is_int(high):
                    state["low"], state["high"] = low, high
            except Exception:
                pass
        return state


# ---- the driver ---------------------------------------------------------------------------

class Driver:
    def __init__(self, loop, channel_fd, implementation, version, capabilities):
        self.loop = loop
        self.implementation = implementation
        self.version = version
        self.capabilities = capabilities
        self.channel = Channel(channel_fd, self.on_post)
        self.protocols = {}    # harness protocol id -> proxy
        self.transports = {}   # connection id -> transport
        self.conn_ids = {}     # id(transport) -> connection id (the transport is kept alive in self.transports)
        self.servers = {}      # server id -> asyncio.Server
        self.timers = {}       # handle id -> TimerHandle
        self.state_readers = {}  # connection id -> StateReader
        self.sent_states = {}  # connection id -> the state last sent
        self.tasks = set()
        # Microseconds per callback round trip (event sent -> return read): plain ones, and those whose
        # harness side sent commands meanwhile (their time includes executing them).
        self.plain_round_trips = collections.Counter()
        self.nested_round_trips = collections.Counter()
        self.commands_in_callback = 0

    # -- callbacks into the harness --

    def callback(self, name, **fields):
        """Sends an event and serves the harness until it answers with the callback's result."""
        message = {"event": name}
        message.update(fields)
        self.attach_states(message)
        started = time.perf_counter()
        nested_before = self.commands_in_callback
        self.channel.send(message)
        while True:
            reply = self.channel.receive()
            if "cmd" in reply:
                self.commands_in_callback += 1
                self.execute(reply)
                continue
            if "return" in reply and len(reply) == 1:
                micros = int((time.perf_counter() - started) * 1e6)
                if self.commands_in_callback == nested_before:
                    self.plain_round_trips[micros] += 1
                else:
                    self.nested_round_trips[micros] += 1
                return reply["return"]
            if "raise" in reply and len(reply) == 1 and ERROR.check(reply["raise"]):
                raise exception_from(reply["raise"])
            self.channel.report("unexpected message while waiting for the return of '%s': %s"
                                % (name, json.dumps(reply)[:200]))

    def fire(self, handle):
        self.timers.pop(handle, None)
        self.callback("callback", handle=handle)

    def on_post(self, message):
        try:
            validate(message, "post", {"post": STRING, "handle": ID})
            if message["post"] != "call_soon_threadsafe" or len(message) != 2:
                raise ProtocolViolation("post: unknown post '%s'" % message["post"])
        except ProtocolViolation as e:
            self.channel.report(str(e))
            return
        self.loop.call_soon_threadsafe(self.fire, message["handle"])

    def make_protocol(self, factory):
        answer = self.callback("factory", factory=factory)
        if not (isinstance(answer, dict) and _is_int(answer.get("proto")) and answer.get("kind") in PROXY_CLASSES):
            fatal("protocol violation: the factory's return must be {\"proto\": id, \"kind\": ...}, got %r" % (answer,))
        try:
            return self.proxy(answer["proto"], answer["kind"])
        except ProtocolViolation as e:  # inside the loop: raising would look like a failing factory
            fatal("protocol violation: %s" % e)

    def proxy(self, pid, kind):
        proxy = self.protocols.get(pid)
        if proxy is None:
            proxy = self.protocols[pid] = PROXY_CLASSES[kind](self, pid)
        elif not isinstance(proxy, PROXY_CLASSES[kind]):
            raise ProtocolViolation("protocol %d is a %s, not a %s" % (pid, type(proxy).__name__, kind))
        return proxy

    def conn_id(self, transport):
        cid = self.conn_ids.get(id(transport))
        if cid is None or self.transports.get(cid) is not transport:
            cid = len(self.transports) + 1
            self.transports[cid] = transport
            self.conn_ids[id(transport)] = cid
            self.state_readers[cid] = StateReader(transport)
        return cid

    def attach_states(self, message):
        changed = {}
        for cid, reader in self.state_readers.items():
            state = reader.read()
            if self.sent_states.get(cid) != state:
                self.sent_states[cid] = state
                changed[str(cid)] = state
        if changed:
            message["states"] = changed

    # -- commands from the harness --

    def serve(self):
        self.channel.send(self.hello())
        self.loop.add_reader(self.channel.fileno(), self.channel.poll)
        while True:
            message = self.channel.receive()
            if "cmd" in message:
                self.execute(message)
            else:
                self.channel.report("expected a command, got %s" % json.dumps(message)[:200])

    def hello(self):
        message = {"hello": PROTOCOL_VERSION, "implementation": self.implementation, "version": self.version,
                   "capabilities": self.capabilities, "pid": os.getpid()}
        return message

    def execute(self, message):
        name = message.get("cmd")
        handler = COMMANDS.get(name) if isinstance(name, str) else None
        if handler is None:
            reply = {"error": {"type": "NotImplementedError", "errno": 0,
                               "message": "the driver has no command %s" % json.dumps(name)}}
            self.attach_states(reply)
            self.channel.send(reply)
            return
        function, fields, optional = handler
        what = "command '%s'" % name
        try:
            unknown = set(message) - set(fields) - {"cmd"}
            if unknown:
                raise ProtocolViolation("%s: unknown field '%s'" % (what, sorted(unknown)[0]))
            validate(message, what, fields, optional)
            arguments = {k: v for k, v in message.items() if k != "cmd"}
            try:
                reply = {"ok": function(self, what, **arguments)}
            except ProtocolViolation:
                raise
            except Exception as e:
                reply = {"error": canonical_error(e)}
        except ProtocolViolation as e:
            sys.stderr.write("loopspec driver: protocol violation: %s\n" % e)
            reply = {"protocol_error": str(e)}
        self.channel.close_unused_fds()
        self.attach_states(reply)
        self.channel.send(reply)

    def transport(self, conn, what):
        transport = self.transports.get(conn)
        if transport is None:
            raise ProtocolViolation("%s: field 'conn': no connection %d" % (what, conn))
        return transport

    def start(self, op, what, coroutine, describe):
        """Runs an operation (a coroutine) and reports its outcome as a "done" event."""
        async def run():
            try:
                result = await coroutine
            except Exception as e:
                self.callback("done", op=op, error=canonical_error(e))
            else:
                fields = describe(result)
                self.callback("done", op=op, **fields)

        task = self.loop.create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def statistics(self):
        """Round-trip histograms for LOOPSPEC_DRIVER_STATS ({microseconds: count}; see round_trips.py)."""
        return {"loop": self.implementation, "plain_us": dict(sorted(self.plain_round_trips.items())),
                "nested_us": dict(sorted(self.nested_round_trips.items()))}


def python_address(address):
    """A wire address as Python's socket functions give it back: a Unix path, (host, port) for IPv4,
    (host, port, flowinfo, scope_id) for IPv6 -- so that it compares equal to getpeername()'s, as a
    connected datagram transport requires of sendto()'s address. (create_datagram_endpoint takes
    (host, port) pairs only.)"""
    if isinstance(address, str):
        return address
    host, port = address
    return (host, port, 0, 0) if ":" in host else (host, port)


def address_arguments(address):
    return (tuple(address), {}) if isinstance(address, list) else ((), {"path": address})


# Each command: function(driver, what, **fields) -> JSON result; its field types; the optional ones.
COMMANDS = {}


def command(command_name, optional=(), **fields):
    def register(function):
        COMMANDS[command_name] = (function, fields, optional)
        return function
    return register


@command("run")
def _run(d, what):
    d.loop.run_forever()


@command("stop")
def _stop(d, what):
    d.loop.stop()


@command("time")
def _time(d, what):
    return d.loop.time()


@command("exit")
def _exit(d, what):
    path = os.environ.get("LOOPSPEC_DRIVER_STATS")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps(d.statistics()) + "\n")
    d.channel.send({"ok": None})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@command("call_soon", handle=ID)
def _call_soon(d, what, handle):
    d.loop.call_soon(d.fire, handle)


@command("call_later", handle=ID, delay=NUMBER)
def _call_later(d, what, handle, delay):
    d.timers[handle] = d.loop.call_later(delay, d.fire, handle)


@command("cancel", handle=ID)
def _cancel(d, what, handle):
    timer = d.timers.pop(handle, None)
    if timer is not None:
        timer.cancel()


def ssl_context(config, server):
    import ssl
    if config is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    if config.get("cert_file"):
        context.load_cert_chain(config["cert_file"], config.get("key_file") or None)
    if config.get("ca_file"):
        context.load_verify_locations(config["ca_file"])
    if not config.get("verify_peer", True):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif server:
        context.verify_mode = ssl.CERT_REQUIRED
    if config.get("alpn"):
        context.set_alpn_protocols(config["alpn"])
    return context


def tls_keywords(ssl, server, server_hostname=None, handshake_timeout=None, shutdown_timeout=None):
    keywords = {}
    if ssl is not None:
        keywords["ssl"] = ssl_context(ssl, server)
        if server_hostname:
            keywords["server_hostname"] = server_hostname
        if handshake_timeout is not None:
            keywords["ssl_handshake_timeout"] = handshake_timeout
        if shutdown_timeout is not None:
            keywords["ssl_shutdown_timeout"] = shutdown_timeout
    return keywords


OPT_NUMBER = Field("a number or null", lambda v: v is None or NUMBER.check(v))


@command("create_connection", optional=("ssl", "server_hostname", "ssl_handshake_timeout", "ssl_shutdown_timeout"),
         op=ID, factory=ID, address=ADDRESS, ssl=TLS, server_hostname=OPT_STRING, ssl_handshake_timeout=OPT_NUMBER,
         ssl_shutdown_timeout=OPT_NUMBER)
def _create_connection(d, what, op, factory, address, ssl=None, server_hostname=None, ssl_handshake_timeout=None,
                       ssl_shutdown_timeout=None):
    keywords = tls_keywords(ssl, False, server_hostname, ssl_handshake_timeout, ssl_shutdown_timeout)
    positional, path = address_arguments(address)
    if path:
        coroutine = d.loop.create_unix_connection(lambda: d.make_protocol(factory), path["path"], **keywords)
    else:
        coroutine = d.loop.create_connection(lambda: d.make_protocol(factory), *positional, **keywords)
    d.start(op, what, coroutine, lambda result: {"conn": d.conn_id(result[0])})


@command("create_server", optional=("ssl", "ssl_handshake_timeout", "ssl_shutdown_timeout"), op=ID, factory=ID,
         address=ADDRESS, backlog=INT, reuse_port=BOOL, ssl=TLS, ssl_handshake_timeout=OPT_NUMBER,
         ssl_shutdown_timeout=OPT_NUMBER)
def _create_server(d, what, op, factory, address, backlog, reuse_port, ssl=None, ssl_handshake_timeout=None,
                   ssl_shutdown_timeout=None):
    keywords = tls_keywords(ssl, True, None, ssl_handshake_timeout, ssl_shutdown_timeout)
    positional, path = address_arguments(address)
    if path:
        coroutine = d.loop.create_unix_server(lambda: d.make_protocol(factory), path["path"], backlog=backlog,
                                              **keywords)
    else:
        if reuse_port:
            keywords["reuse_port"] = True
        coroutine = d.loop.create_server(lambda: d.make_protocol(factory), *positional, backlog=backlog, **keywords)

    def describe(server):
        sid = len(d.servers) + 1
        d.servers[sid] = server
        return {"server": sid}

    d.start(op, what, coroutine, describe)


@command("connect_accepted_socket", optional=("ssl", "ssl_handshake_timeout", "ssl_shutdown_timeout"), op=ID,
         factory=ID, fds=INT, ssl=TLS, ssl_handshake_timeout=OPT_NUMBER, ssl_shutdown_timeout=OPT_NUMBER)
def _connect_accepted_socket(d, what, op, factory, fds, ssl=None, ssl_handshake_timeout=None,
                             ssl_shutdown_timeout=None):
    if fds != 1:
        raise ProtocolViolation("%s: field 'fds' must be 1" % what)
    sock = socket.socket(fileno=d.channel.take_fd(what))
    keywords = tls_keywords(ssl, True, None, ssl_handshake_timeout, ssl_shutdown_timeout)
    d.start(op, what, d.loop.connect_accepted_socket(lambda: d.make_protocol(factory), sock, **keywords),
            lambda result: {"conn": d.conn_id(result[0])})


@command("create_datagram_endpoint", op=ID, factory=ID, local_addr=OPT_ADDRESS, remote_addr=OPT_ADDRESS,
         reuse_port=BOOL)
def _create_datagram_endpoint(d, what, op, factory, local_addr, remote_addr, reuse_port):
    keywords = {}
    if local_addr is not None:
        keywords["local_addr"] = tuple(local_addr) if isinstance(local_addr, list) else local_addr
    if remote_addr is not None:
        keywords["remote_addr"] = tuple(remote_addr) if isinstance(remote_addr, list) else remote_addr
    unix = isinstance(local_addr, str) or isinstance(remote_addr, str)
    if unix:
        keywords["family"] = socket.AF_UNIX
    if reuse_port:
        keywords["reuse_port"] = True

    def make():
        return d.make_protocol(factory)

    async def endpoint():
        try:
            return await d.loop.create_datagram_endpoint(make, **keywords)
        except TypeError as e:
            if not unix:
                raise
            # uvloop takes only (host, port) tuples as addresses; its transports take a bound Unix
            # datagram socket through sock=, asyncio's documented alternative.
            sys.stderr.write("loopspec driver: create_datagram_endpoint refused a Unix path (%s); "
                             "passing a socket bound by the driver as sock=\n" % e)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                if local_addr is not None:
                    sock.bind(local_addr)
                if remote_addr is not None:
                    sock.connect(remote_addr)
                sock.setblocking(False)
            except OSError:
                sock.close()
                raise
            return await d.loop.create_datagram_endpoint(make, sock=sock)

    d.start(op, what, endpoint(), lambda result: {"conn": d.conn_id(result[0])})


@command("connect_read_pipe", op=ID, factory=ID, fds=INT)
def _connect_read_pipe(d, what, op, factory, fds):
    if fds != 1:
        raise ProtocolViolation("%s: field 'fds' must be 1" % what)
    pipe = os.fdopen(d.channel.take_fd(what), "rb", buffering=0)
    d.start(op, what, d.loop.connect_read_pipe(lambda: d.make_protocol(factory), pipe),
            lambda result: {"conn": d.conn_id(result[0])})


@command("connect_write_pipe", op=ID, factory=ID, fds=INT)
def _connect_write_pipe(d, what, op, factory, fds):
    if fds != 1:
        raise ProtocolViolation("%s: field 'fds' must be 1" % what)
    pipe = os.fdopen(d.channel.take_fd(what), "wb", buffering=0)
    d.start(op, what, d.loop.connect_write_pipe(lambda: d.make_protocol(factory), pipe),
            lambda result: {"conn": d.conn_id(result[0])})


def stdio_arguments(d, specs, what):
    """The stdin/stdout/stderr arguments of a subprocess command, and the descriptors that came with it
    (the driver's copies, closed once the child has them)."""
    arguments, passed = [], []
    for spec in specs:
        if spec == "pipe":
            arguments.append(asyncio.subprocess.PIPE)
        elif spec == "devnull":
            arguments.append(asyncio.subprocess.DEVNULL)
        elif spec == "inherit":
            arguments.append(None)
        else:
            fd = d.channel.take_fd(what)
            passed.append(fd)
            arguments.append(fd)
    return arguments, passed


async def closing_afterwards(coroutine, fds):
    """Awaits a subprocess coroutine, then closes the descriptors handed to the child: the child has its
    own copies, and a copy left here would keep a pipe's other end from seeing end of file."""
    try:
        return await coroutine
    finally:
        for fd in fds:
            os.close(fd)


@command("subprocess_exec", op=ID, factory=ID, argv=STRINGS, stdin=STDIO, stdout=STDIO, stderr=STDIO)
def _subprocess_exec(d, what, op, factory, argv, stdin, stdout, stderr):
    if not argv:
        raise ProtocolViolation("%s: field 'argv' must not be empty" % what)
    io, passed = stdio_arguments(d, (stdin, stdout, stderr), what)
    coroutine = d.loop.subprocess_exec(lambda: d.make_protocol(factory), *argv, stdin=io[0], stdout=io[1],
                                       stderr=io[2])
    d.start(op, what, closing_afterwards(coroutine, passed), lambda result: {"conn": d.conn_id(result[0])})


@command("subprocess_shell", op=ID, factory=ID, command=STRING, stdin=STDIO, stdout=STDIO, stderr=STDIO)
def _subprocess_shell(d, what, op, factory, command, stdin, stdout, stderr):
    io, passed = stdio_arguments(d, (stdin, stdout, stderr), what)
    coroutine = d.loop.subprocess_shell(lambda: d.make_protocol(factory), command, stdin=io[0], stdout=io[1],
                                        stderr=io[2])
    d.start(op, what, closing_afterwards(coroutine, passed), lambda result: {"conn": d.conn_id(result[0])})


# -- servers --

def find_server(d, sid, what):
    found = d.servers.get(sid)
    if found is None:
        raise ProtocolViolation("%s: field 'server': no server %d" % (what, sid))
    return found


@command("server_close", server=ID)
def _server_close(d, what, server):
    find_server(d, server, what).close()


@command("server_is_serving", server=ID)
def _server_is_serving(d, what, server):
    return bool(find_server(d, server, what).is_serving())


@command("server_addresses", server=ID)
def _server_addresses(d, what, server):
    return [wire_address(s.getsockname()) for s in (find_server(d, server, what).sockets or ())]


# -- transports: every method of asyncio's transport classes --

def transport_command(name, result=None, **fields):
    """A command calling transport method `name` of connection `conn` with the given fields, passed
    positionally in the order given: uvloop's transport methods take no keyword arguments."""
    def call(d, what, conn, **arguments):
        method = getattr(d.transport(conn, what), name)
        value = method(*(arguments[field] for field in fields))
        return result(d, value) if result else None
    COMMANDS[name] = (call, dict(conn=ID, **fields), ())


def protocol_id(d, protocol):
    for pid, proxy in d.protocols.items():
        if proxy is protocol:
            return pid
    return None


transport_command("is_closing", lambda d, v: bool(v))
transport_command("close")
transport_command("is_reading", lambda d, v: bool(v))
transport_command("pause_reading")
transport_command("resume_reading")
transport_command("get_write_buffer_size", lambda d, v: v)
transport_command("get_write_buffer_limits", lambda d, v: list(v))
transport_command("set_write_buffer_limits", high=OPT_INT, low=OPT_INT)
transport_command("write_eof")
transport_command("can_write_eof", lambda d, v: bool(v))
transport_command("abort")
transport_command("get_pid", lambda d, v: v)
transport_command("get_returncode", lambda d, v: v)
transport_command("send_signal", signal=INT)
transport_command("terminate")
transport_command("kill")
transport_command("get_protocol", lambda d, v: protocol_id(d, v))


@command("get_extra_info", conn=ID, name=STRING)
def _get_extra_info(d, what, conn, name):
    value = d.transport(conn, what).get_extra_info(name)
    return wire_address(value) if name in ("peername", "sockname") and value is not None else canonical_value(value)


@command("set_protocol", conn=ID, proto=ID, kind=STRING)
def _set_protocol(d, what, conn, proto, kind):
    if kind not in PROXY_CLASSES:
        raise ProtocolViolation("%s: field 'kind': unknown protocol kind '%s'" % (what, kind))
    d.transport(conn, what).set_protocol(d.proxy(proto, kind))


@command("write", conn=ID, data=BLOB)
def _write(d, what, conn, data):
    d.transport(conn, what).write(d.channel.take_blob(data, what + ": field 'data'"))


@command("writelines", conn=ID, data=BLOBS)
def _writelines(d, what, conn, data):
    parts = [d.channel.take_blob(b, what + ": field 'data'") for b in data]
    d.transport(conn, what).writelines(parts)


@command("sendto", optional=("addr",), conn=ID, data=BLOB, addr=OPT_ADDRESS)
def _sendto(d, what, conn, data, addr=None):
    payload = d.channel.take_blob(data, what + ": field 'data'")
    transport = d.transport(conn, what)
    if addr is None:
        transport.sendto(payload)
    else:
        transport.sendto(payload, python_address(addr))


@command("get_pipe_transport", conn=ID, fd=INT)
def _get_pipe_transport(d, what, conn, fd):
    pipe = d.transport(conn, what).get_pipe_transport(fd)
    return None if pipe is None else d.conn_id(pipe)


# ---- loops --------------------------------------------------------------------------------

def python_description():
    return "%s %s" % (platform.python_implementation(), platform.python_version())


def make_loop(spec):
    """(loop, implementation, version, capabilities) for asyncio, uvloop or MODULE:CALLABLE."""
    if spec == "asyncio":
        loop = asyncio.new_event_loop()
        return (loop, "%s asyncio %s" % (platform.python_implementation(), type(loop).__name__),
                platform.python_version(),
                STREAM_CAPABILITIES + tls_capability())
    if spec == "uvloop":
        import uvloop
        loop = uvloop.new_event_loop()
        return (loop, "uvloop.%s on %s" % (type(loop).__name__, python_description()), uvloop.__version__,
                STREAM_CAPABILITIES + tls_capability())
    module_name, _, attribute = spec.partition(":")
    module = importlib.import_module(module_name)
    factory = module
    for part in attribute.split("."):
        factory = getattr(factory, part)
    loop = factory()
    for method in ("run_forever", "stop", "call_soon", "call_later", "call_soon_threadsafe", "add_reader",
                   "create_task", "time"):
        if not callable(getattr(loop, method, None)):
            raise TypeError("%s returned %r, which has no %s() method" % (spec, loop, method))
    version = str(getattr(module, "__version__", "") or "")
    implementation = "%s.%s from %s on %s" % (type(loop).__module__, type(loop).__qualname__, spec,
                                               python_description())
    declared = getattr(loop, "loopspec_capabilities", None)
    if declared is not None:
        capabilities = [str(c) for c in declared]
    else:
        capabilities = [c for c, method in (("tcp", "create_connection"), ("unix", "create_unix_connection"),
                                            ("udp", "create_datagram_endpoint"), ("pipes", "connect_read_pipe"),
                                            ("subprocess", "subprocess_exec"))
                        if implements(loop, method)]
        if "tcp" in capabilities:
            # create_connection/create_server take ssl= and a BufferedProtocol in asyncio's API.
            capabilities += ["buffered"] + tls_capability()
    return loop, implementation, version, capabilities


def implements(loop, method):
    """Whether the loop's class provides `method` beyond AbstractEventLoop's NotImplementedError stub."""
    found = getattr(type(loop), method, None)
    return found is not None and found is not getattr(asyncio.AbstractEventLoop, method, None)


def tls_capability():
    try:
        import ssl  # noqa: F401
    except ImportError:
        return []
    return ["tls"]


def main(argv):
    parser = argparse.ArgumentParser(description="Runs a Python event loop under the loopspec harness (fd 3).")
    parser.add_argument("--loop", required=True, help="asyncio, uvloop or MODULE:CALLABLE (a loop factory)")
    parser.add_argument("--python-path", action="append", default=[], help="a directory to import loop modules from")
    arguments = parser.parse_args(argv)
    for directory in reversed(arguments.python_path):
        sys.path.insert(0, directory)
    try:
        os.fstat(CHANNEL_FD)
    except OSError:
        fatal("fd %d is not open: the driver runs under the loopspec harness, which passes the channel there"
              % CHANNEL_FD, 2)
    spec = arguments.loop
    if spec not in ("asyncio", "uvloop") and (":" not in spec or not all(spec.partition(":")[::2])):
        channel_fatal("--loop must be asyncio, uvloop or MODULE:CALLABLE, got '%s'" % spec)
    try:
        loop, implementation, version, capabilities = make_loop(spec)
    except Exception as e:
        channel_fatal("cannot create the loop '%s': %s: %s" % (spec, type(e).__name__, e))
    asyncio.set_event_loop(loop)
    driver = Driver(loop, CHANNEL_FD, implementation, version, capabilities)
    try:
        driver.serve()
    except ProtocolViolation as e:
        fatal("protocol violation: %s" % e)


def channel_fatal(text):
    """Before hello: tell the harness why there is no loop, then exit 2."""
    try:
        with socket.socket(fileno=os.dup(CHANNEL_FD)) as sock:
            sock.sendall(json.dumps({"fatal": text}).encode("utf-8") + b"\n")
    except OSError:
        pass
    fatal(text, 2)


if __name__ == "__main__":
    main(sys.argv[1:])
