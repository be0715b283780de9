"""The `helpdesk` command. Each feature adds its commands from its own module (COMMAND_MODULES);
channels add theirs (`helpdesk smtp`, `helpdesk worker`) to ``app.cli`` in their init_app."""

from __future__ import annotations

import importlib

import click
from flask.cli import FlaskGroup

from helpdesk.cli.common import make_app

COMMAND_MODULES = [
    "helpdesk.cli.admin",
    "helpdesk.cli.backup",
    "helpdesk.cli.core",
    "helpdesk.cli.demo",
    "helpdesk.incidents.cli",
    "helpdesk.cli.kb",
    "helpdesk.cli.merge",
    "helpdesk.cli.metrics",
    "helpdesk.cli.privacy",
    "helpdesk.cli.tokens",
    "helpdesk.cli.triage",
    "helpdesk.cli.twofactor",
]


@click.group(
    cls=FlaskGroup,
    create_app=make_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
)
def cli() -> None:
    """Helpdesk: support center for government digital services."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(cli)


def main() -> None:
    cli(prog_name="helpdesk")
