"""A TCP proxy between one process and the shared test Redis, which the tests make hang or go away
instead of touching the shared server (other helpers' tests use it at the same time)."""

from __future__ import annotations

import socket
import threading

import redis


class RedisProxy:
    """Between one process and Redis; the process is given ``url``.

    ``pause()`` holds every byte, both ways, with the connections open (a Redis stopped by
    SIGSTOP, a frozen host) until ``resume()`` delivers them. ``pause(drop=True)`` reads and throws
    away whatever arrives instead (a hang that never ends: nothing is held, nothing fills up; the
    streams are out of step after it, so such a test never resumes). ``cut()`` closes every
    connection and refuses new ones (Redis down) until ``restore()``.
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.passing = threading.Event()
        self.passing.set()
        self.dropping = False
        self.down = False
        self.lock = threading.Lock()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.url = f"redis://127.0.0.1:{self.server.getsockname()[1]}/0"
        threading.Thread(target=self._accept, daemon=True).start()

    @classmethod
    def to(cls, redis_url: str) -> RedisProxy:
        parts = redis.connection.parse_url(redis_url)
        return cls((parts.get("host", "127.0.0.1"), int(parts.get("port", 6379))))

    def pause(self, drop: bool = False) -> None:
        self.dropping = drop
        self.passing.clear()

    def resume(self) -> None:
        self.dropping = False
        self.passing.set()

    def cut(self) -> None:
        with self.lock:
            self.down = True
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            self._close(pair)

    def restore(self) -> None:
        self.down = False

    def close(self) -> None:
        self.cut()
        self.resume()
        self.server.close()

    def _accept(self) -> None:
        while True:
            try:
                client = self.server.accept()[0]
            except OSError:
                return
            if self.down:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            pair = (client, upstream)
            with self.lock:
                self.pairs.append(pair)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b, pair), daemon=True).start()

    def _pump(
        self, source: socket.socket, target: socket.socket, pair: tuple[socket.socket, socket.socket]
    ) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if self.dropping:
                    continue  # thrown away: never delivered
                self.passing.wait()  # paused: held here and in the kernel's buffers
                if self.down:
                    break
                if self.dropping:
                    continue
                target.sendall(data)
        except OSError:
            pass
        self._close(pair)

    @staticmethod
    def _close(pair: tuple[socket.socket, socket.socket]) -> None:
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
