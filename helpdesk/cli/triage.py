"""`helpdesk triage train | evaluate | status | activate`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from helpdesk.cli.common import services
from triage.store import ModelError, ModelStore


def register(cli: click.Group) -> None:
    cli.add_command(triage)


@click.group(cls=AppGroup)
def triage() -> None:
    """The triage classifier: train, evaluate, inspect."""


class _Bar:
    """A click progress bar fed by the trainer's (stage, fraction) callback."""

    def __init__(self, label: str) -> None:
        self._cm = click.progressbar(length=100, label=label, file=sys.stderr, item_show_func=lambda s: s)
        self._bar = self._cm.__enter__()
        self._done = 0

    def __call__(self, stage: str, fraction: float) -> None:
        target = min(100, int(fraction * 100))
        self._bar.update(max(0, target - self._done), stage)
        self._done = max(self._done, target)

    def close(self) -> None:
        self._cm.__exit__(None, None, None)


def _store() -> ModelStore:
    settings = services().settings
    return ModelStore(settings.data_dir, settings.secret_key)


@triage.command()
@click.option("--if-missing", is_flag=True, help="Do nothing when a model is already active.")
@click.option("--force", is_flag=True, help="Activate even if it evaluates worse.")
@click.option("--seed-only", is_flag=True, help="Ignore agents' corrections.")
def train(if_missing: bool, force: bool, seed_only: bool) -> None:
    """Retrain from the seed data plus agents' category corrections; write a new version."""
    from helpdesk.triage_service import agent_labels
    from triage.datasets import read_seed
    from triage.training import train_version

    svc = services()
    store = _store()
    if if_missing and store.active_version() is not None:
        click.echo(f"triage model {store.active_version()} is active; nothing to do")
        return
    seed = read_seed()
    extra = [] if seed_only else agent_labels(svc.db)
    click.echo(f"training on {len(seed)} seed examples and {len(extra)} agent labels")
    bar = _Bar("training")
    try:
        result = train_version(store, seed, extra, progress=bar, force=force)
    finally:
        bar.close()
    previous = (
        f"; active {result.active_version} scores {result.active_accuracy:.3f}"
        if result.active_accuracy is not None
        else ""
    )
    click.echo(f"version {result.version}: accuracy {result.accuracy:.3f} on the evaluation slice{previous}")
    click.echo(describe_settings(result.settings))
    if result.activated:
        click.echo(f"activated ({result.reason})")
    else:
        click.echo(f"NOT activated: {result.reason}")
        sys.exit(3)


@triage.command(with_appcontext=False)
@click.option("--train", "train_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--test", "test_file", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--text-column", default="text", show_default=True)
@click.option("--label-column", default="label", show_default=True)
@click.option("--out-of-scope-label", default=None, help="Label of inquiries the model should refuse.")
@click.option("--per-class/--no-per-class", default=True, help="Include the per-class report.")
def evaluate(
    train_file: str,
    test_file: str,
    text_column: str,
    label_column: str,
    out_of_scope_label: str | None,
    per_class: bool,
) -> None:
    """Train the triage pipeline on one CSV/JSON-lines file and report on another, as JSON."""
    # sklearn loads only for the commands that train, so `helpdesk --help` stays quick
    from triage.datasets import DatasetError, read_examples
    from triage.evaluation import train_and_evaluate

    try:
        train_rows = read_examples(Path(train_file), text_column, label_column)
        test_rows = read_examples(Path(test_file), text_column, label_column)
    except DatasetError as exc:
        raise click.UsageError(str(exc)) from exc
    bar = _Bar("training")
    try:
        result = train_and_evaluate(train_rows, test_rows, out_of_scope_label, progress=bar)
    finally:
        bar.close()
    if not per_class:
        result.pop("per_class", None)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


@triage.command()
def status() -> None:
    """List model versions with their figures; the active one is marked."""
    store = _store()
    active = store.active_version()
    versions = store.versions()
    if not versions:
        click.echo("no triage model yet (run: helpdesk triage train)")
        return
    for version in versions:
        try:
            meta = store.meta(version)
        except ModelError as exc:
            click.echo(f"  {version}  unreadable: {exc}")
            continue
        mark = "*" if version == active else " "
        click.echo(
            f"{mark} {version}  accuracy {meta.get('eval_accuracy')}  "
            f"trained on {meta.get('train_size')} ({meta.get('agent_labels')} agent labels)"
        )
        chosen = meta.get("settings")
        if chosen:
            click.echo(f"    {describe_settings(chosen)}")


def describe_settings(chosen: dict[str, Any]) -> str:
    """One line: the settings cross-validation chose, with its score and the bare baseline's."""
    if not chosen.get("folds"):
        return f"features {chosen.get('features')}, C {chosen.get('C')} (too little data to cross-validate)"
    return (
        f"features {chosen.get('features')}, C {chosen.get('C')}, "
        f"threshold {chosen.get('threshold')}, temperature {chosen.get('temperature')}; "
        f"{chosen.get('folds')}-fold CV on {chosen.get('cv_examples')} examples: "
        f"{chosen.get('cv_accuracy')} (bare TF-IDF + LinearSVC {chosen.get('bare_cv_accuracy')})"
    )


@triage.command()
@click.argument("version")
def activate(version: str) -> None:
    """Make VERSION the active model (e.g. to roll back); servers pick it up within a second."""
    try:
        _store().activate(version)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"activated {version}")


@triage.command()
@click.argument("category", required=False)
@click.argument("queue", required=False)
@click.option("--remove", is_flag=True, help="Drop the stored rule for CATEGORY.")
def route(category: str | None, queue: str | None, remove: bool) -> None:
    """Show the category -> queue map, or store a rule (the same as `helpdesk route`)."""
    from helpdesk.cli.admin import show_routes

    show_routes(category, queue, remove)
