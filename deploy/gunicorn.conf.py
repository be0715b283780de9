"""gunicorn config file for a hand-written command line; the settings live in the package.

    gunicorn -c deploy/gunicorn.conf.py helpdesk.wsgi:app

is the same as `helpdesk serve --production` (which uses `-c python:helpdesk.gunicorn_config`).
"""

from helpdesk.gunicorn_config import *  # noqa: F403
