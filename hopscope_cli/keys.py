"""`hopscope keys create|list|revoke`: API keys through the collector's admin API (the collector
owns its store; with the embedded engine nothing else may open it while it runs)."""

from __future__ import annotations

import argparse
import os
import sys

import httpx


def add_commands(commands) -> None:
    keys = commands.add_parser(
        "keys",
        help="create, list or revoke API keys (ingest, read, admin)",
        description="Manage API keys through a running collector's admin API. The token is "
        "HOPSCOPE_TOKEN (an admin token), or none for a collector in laptop mode.",
    )
    keys.add_argument(
        "--api-url", default="http://127.0.0.1:4318", help="the collector (default http://127.0.0.1:4318)"
    )
    actions = keys.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a key; it is printed once")
    create.add_argument("--name", required=True, help="what the key is for, e.g. checkout-service")
    create.add_argument("--scope", action="append", required=True, choices=("ingest", "read", "admin"),
                        help="repeat for several")  # fmt: skip
    actions.add_parser("list", help="list keys (never the keys themselves)")
    revoke = actions.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")


def run(args: argparse.Namespace) -> int:
    token = os.environ.get("HOPSCOPE_TOKEN")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"} if token else {
        "Content-Type": "application/json"}  # fmt: skip
    url = args.api_url.rstrip("/") + "/api/v1/keys"
    try:
        with httpx.Client(timeout=30, headers=headers) as client:
            if args.action == "create":
                response = client.post(url, json={"name": args.name, "scopes": args.scope})
            elif args.action == "list":
                response = client.get(url)
            else:
                response = client.delete(f"{url}/{args.key_id}")
    except httpx.HTTPError as exc:
        print(f"hopscope keys: cannot reach the collector at {args.api_url}: {exc}", file=sys.stderr)
        return 2
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        print(f"hopscope keys: {response.status_code}: {detail}", file=sys.stderr)
        return 2
    if args.action == "create":
        body = response.json()
        print(f"key {body['id']} ({body['name']}, scopes {', '.join(body['scopes'])}) — shown only now:")
        print(body["token"])
    elif args.action == "list":
        for key in response.json():
            state = "revoked" if key.get("revoked") else "active"
            print(
                f"{key['id']}  {key['name']:30} {','.join(key['scopes']):20} {state}  last used {key.get('last_used')}"
            )
    else:
        print(f"key {args.key_id} revoked")
    return 0
