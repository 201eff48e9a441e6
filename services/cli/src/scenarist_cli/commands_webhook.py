"""`scenarist webhook create|list|get|rotate|attach|delete`: manage webhook URLs on a server.

`create` prints the URL and, once, the secret callers need. URLs are built from the server's
public base URL: --public-url, else SCENARIST_PUBLIC_URL, else http://127.0.0.1:8080.
Register with ``add_webhook_commands(commands)`` next to the other remote command groups.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import grpc
from scenarist.trigger.v1 import webhook_pb2
from scenarist.trigger.v1 import webhook_service_pb2 as pb
from scenarist.trigger.v1 import webhook_service_pb2_grpc as pb_grpc

from scenarist_cli import config as cli_config
from scenarist_cli.commands_remote import connection_options
from scenarist_cli.config import ConfigError, resolve
from scenarist_cli.output import (
    EXIT_INVALID,
    EXIT_OK,
    as_dict,
    error_report,
    exit_code_for,
    print_error,
    print_json,
)

PUBLIC_URL_KEY = "SCENARIST_PUBLIC_URL"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"
CALL_TIMEOUT_SECONDS = 30.0
AUTH_KINDS = {
    "none": webhook_pb2.WEBHOOK_AUTH_NONE,
    "api-key": webhook_pb2.WEBHOOK_AUTH_API_KEY,
    "basic": webhook_pb2.WEBHOOK_AUTH_BASIC,
    "standard-webhooks": webhook_pb2.WEBHOOK_AUTH_STANDARD_WEBHOOKS,
}
AUTH_NAMES = {value: name for name, value in AUTH_KINDS.items()}


class Api:
    """The webhook stub and the per-call options (token, deadline)."""

    def __init__(self, stub: pb_grpc.WebhookServiceStub, token: str) -> None:
        self.hooks = stub
        self.options: dict[str, Any] = {
            "metadata": (("authorization", f"Bearer {token}"),),
            "timeout": CALL_TIMEOUT_SECONDS,
        }


Handler = Callable[[Api, argparse.Namespace], int]


def public_url(args: argparse.Namespace) -> str:
    base = getattr(args, "public_url", None) or os.environ.get(PUBLIC_URL_KEY) or DEFAULT_PUBLIC_URL
    return str(base).rstrip("/")


def describe(hook: webhook_pb2.Webhook, args: argparse.Namespace) -> dict[str, Any]:
    data = as_dict(hook)
    data["auth"] = AUTH_NAMES.get(hook.auth, "none")
    data["url"] = public_url(args) + hook.url_path if hook.url_path else ""
    return data


def _secret(secret: webhook_pb2.WebhookSecret) -> dict[str, Any] | None:
    kind = secret.WhichOneof("secret")
    if kind == "api_key":
        return {"api_key": secret.api_key, "header": "x-make-apikey"}
    if kind == "basic":
        return {"username": secret.basic.username, "password": secret.basic.password}
    if kind == "signing_secret":
        return {"signing_secret": secret.signing_secret, "scheme": "standard-webhooks"}
    return None


def _with_secret(
    hook: webhook_pb2.Webhook, secret: webhook_pb2.WebhookSecret, args: argparse.Namespace
) -> dict[str, Any]:
    shown = describe(hook, args)
    found = _secret(secret)
    if found is not None:
        shown["secret"] = found
        shown["note"] = "the secret is shown only now: store it safely"
    return shown


def webhook_create(api: Api, args: argparse.Namespace) -> int:
    request = pb.CreateWebhookRequest(
        scenario_id=args.scenario or "",
        name=args.name or "",
        auth=AUTH_KINDS[args.auth],
        basic_username=args.username or "",
    )
    request.options.ip_allow_list.extend(args.allow_ip or [])
    request.options.pass_headers = args.pass_headers
    request.options.pass_method = args.pass_method
    created = api.hooks.CreateWebhook(request, **api.options)
    print_json(_with_secret(created.webhook, created.secret, args))
    return EXIT_OK


def webhook_list(api: Api, args: argparse.Namespace) -> int:
    hooks: list[dict[str, Any]] = []
    token = ""
    for _ in range(1000):
        request = pb.ListWebhooksRequest(
            scenario_id=args.scenario or "", page_size=500, page_token=token
        )
        page = api.hooks.ListWebhooks(request, **api.options)
        hooks.extend(describe(hook, args) for hook in page.webhooks)
        token = page.next_page_token
        if not token:
            break
    print_json({"webhooks": hooks})
    return EXIT_OK


def webhook_get(api: Api, args: argparse.Namespace) -> int:
    found = api.hooks.GetWebhook(pb.GetWebhookRequest(webhook_id=args.id), **api.options)
    print_json(describe(found.webhook, args))
    return EXIT_OK


def webhook_rotate(api: Api, args: argparse.Namespace) -> int:
    rotate_url = args.url or not args.secret
    request = pb.RotateWebhookRequest(
        webhook_id=args.id, rotate_url=rotate_url, rotate_secret=args.secret
    )
    if args.grace_seconds:
        request.previous_secret_ttl.FromSeconds(args.grace_seconds)
    rotated = api.hooks.RotateWebhook(request, **api.options)
    print_json(_with_secret(rotated.webhook, rotated.secret, args))
    return EXIT_OK


def webhook_attach(api: Api, args: argparse.Namespace) -> int:
    request = pb.AttachWebhookRequest(webhook_id=args.id, scenario_id=args.scenario or "")
    print_json(describe(api.hooks.AttachWebhook(request, **api.options).webhook, args))
    return EXIT_OK


def webhook_delete(api: Api, args: argparse.Namespace) -> int:
    api.hooks.DeleteWebhook(pb.DeleteWebhookRequest(webhook_id=args.id), **api.options)
    print_json({"id": args.id, "deleted": True})
    return EXIT_OK


def remote(handler: Handler) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        try:
            server, token = getattr(args, "server", None), getattr(args, "token", None)
            config = resolve(server, token, api=cli_config.Api.TRIGGER)
        except ConfigError as exc:
            print_error({"error": str(exc)})
            return EXIT_INVALID
        try:
            with grpc.insecure_channel(config.server) as channel:
                return handler(Api(pb_grpc.WebhookServiceStub(channel), config.token), args)
        except grpc.RpcError as exc:
            print_error(error_report(exc))
            return exit_code_for(exc)

    return command


def _command(
    group: Any, name: str, handler: Handler, help_text: str, parent: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(name, help=help_text, parents=[parent])
    parser.set_defaults(handler=remote(handler))
    return parser


def add_webhook_commands(commands: Any) -> None:
    parent = connection_options()
    parent.add_argument(
        "--public-url", default=argparse.SUPPRESS, help=f"base of webhook URLs (${PUBLIC_URL_KEY})"
    )
    webhook = commands.add_parser("webhook", help="manage webhook URLs on a server")
    sub = webhook.add_subparsers(dest="webhook_command", required=True)
    create = _command(sub, "create", webhook_create, "create a webhook URL", parent)
    create.add_argument("--scenario", help="the scenario it starts (omit: attach later)")
    create.add_argument("--name")
    create.add_argument("--auth", choices=sorted(AUTH_KINDS), default="none")
    create.add_argument("--username", help="basic auth user (default: scenarist)")
    create.add_argument("--allow-ip", action="append", help="CIDR callers must come from")
    create.add_argument("--pass-headers", action="store_true", help="add headers to the bundle")
    create.add_argument("--pass-method", action="store_true", help="add the method to the bundle")
    _command(sub, "list", webhook_list, "list webhooks, newest first", parent).add_argument(
        "--scenario", help="only webhooks of this scenario"
    )
    _command(sub, "get", webhook_get, "show a webhook", parent).add_argument("id")
    rotate = _command(sub, "rotate", webhook_rotate, "issue a new URL and/or secret", parent)
    rotate.add_argument("id")
    rotate.add_argument("--url", action="store_true", help="a new URL (the default)")
    rotate.add_argument("--secret", action="store_true", help="a new secret")
    rotate.add_argument(
        "--grace-seconds", type=int, default=0, help="keep the old signing secret this long"
    )
    attach = _command(sub, "attach", webhook_attach, "bind to a scenario", parent)
    attach.add_argument("id")
    attach.add_argument("--scenario", help="the scenario (omit: detach)")
    _command(sub, "delete", webhook_delete, "delete a webhook", parent).add_argument("id")
