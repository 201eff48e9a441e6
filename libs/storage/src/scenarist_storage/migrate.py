"""`python -m scenarist_storage.migrate --dsn DSN --all` (or `--schema NAME`): apply migrations and
exit non-zero on failure. Run as a Helm pre-install/pre-upgrade hook Job and by `make run`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from scenarist_storage.postgres import SERVICE_SCHEMAS, create_pool, migrate


async def _run(dsn: str, schemas: Sequence[str]) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        for schema in schemas:
            applied = await migrate(pool, schema)
            print(f"{schema}: applied {applied or 'nothing (up to date)'}")
    finally:
        await pool.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scenarist_storage.migrate")
    parser.add_argument("--dsn", default=os.environ.get("SCENARIST_POSTGRES_DSN"))
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help=f"every schema: {SERVICE_SCHEMAS}")
    which.add_argument("--schema", action="append", choices=SERVICE_SCHEMAS)
    args = parser.parse_args(argv)
    if not args.dsn:
        parser.error("--dsn or SCENARIST_POSTGRES_DSN is required")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    schemas: Sequence[str] = SERVICE_SCHEMAS if args.all else args.schema
    try:
        asyncio.run(_run(args.dsn, schemas))
    except Exception as exc:  # a hook Job must fail loudly with the reason, not a traceback maze
        print(f"migration failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
