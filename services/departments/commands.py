"""``claimflow keys``: API keys of the departments' API. Mounted on the CLI with
``main.add_command(keys)``; imports the rest of claimflow only when a command runs."""
from __future__ import annotations

import json

import click

from services.cli_support import fail as _fail
from services.cli_support import open_app


def _app():
    return open_app(configure_logs=False)


@click.group(help="API keys of the departments' API.")
def keys() -> None:
    pass


@keys.command("create", help="Make a key for DEPARTMENT (or, with --admin, an administrator's key) and print "
                             "it once: only its hash is kept.")
@click.argument("department", required=False)
@click.option("--admin", is_flag=True, help="an administrator's key: every department's claims")
@click.option("--owner", default=None, help="who holds the key, a person or a system (default: the department, "
                                            "or 'admin'); the claim history names it")
def keys_create(department: str | None, admin: bool, owner: str | None) -> None:
    from services.departments.keys import KeyRefused, create_key, describe
    app = _app()
    try:
        try:
            with app.sessions.begin() as session:
                key, secret = create_key(session, department=department, owner=owner, is_admin=admin,
                                         departments=app.policy.departments, now=app.clock.now())
                record = describe(key)
        except KeyRefused as e:
            _fail(str(e), 2)
    finally:
        app.close()
    click.echo(json.dumps({**record, "key": secret}, ensure_ascii=False))
    click.echo("claimflow: keep the key now: it is not stored and cannot be shown again", err=True)


@keys.command("revoke", help="Revoke a key by its id: it is refused (401) from now on.")
@click.argument("key_id", type=int)
def keys_revoke(key_id: int) -> None:
    from services.departments.keys import KeyRefused, describe, revoke_key
    app = _app()
    try:
        try:
            with app.sessions.begin() as session:
                record = describe(revoke_key(session, key_id, app.clock.now()))
        except KeyRefused as e:
            _fail(str(e))
    finally:
        app.close()
    click.echo(json.dumps(record, ensure_ascii=False))


@keys.command("list", help="Every key, one JSON object per line (its prefix, never the key).")
def keys_list() -> None:
    from services.departments.keys import list_keys
    app = _app()
    try:
        with app.sessions() as session:
            for record in list_keys(session):
                click.echo(json.dumps(record, ensure_ascii=False))
    finally:
        app.close()
