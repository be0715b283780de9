"""The embedded all-in-one server: web app, Socket.IO, SMTP server and outbox in one process.

`make run` prepares the venv, the front-end packages and the database, then runs this file.
"""

from __future__ import annotations

import sys

from helpdesk.cli import cli

if __name__ == "__main__":
    sys.exit(cli(["serve", *sys.argv[1:]], prog_name="helpdesk"))
