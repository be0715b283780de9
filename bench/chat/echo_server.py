"""The raw baseline: a bare Flask-SocketIO server (threading mode, simple-websocket) that
acknowledges every "echo" event with its payload. No database, no rooms, no auth."""

from __future__ import annotations

import sys

from flask import Flask
from flask_socketio import SocketIO

app = Flask(__name__)
socketio = SocketIO(app, async_mode="threading", logger=False, engineio_logger=False)


@socketio.on("echo", namespace="/echo")
def echo(data: object) -> object:
    return data


@app.get("/ping")
def ping() -> str:
    return "pong"


if __name__ == "__main__":
    socketio.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        allow_unsafe_werkzeug=True,
        use_reloader=False,
        log_output=False,
    )
