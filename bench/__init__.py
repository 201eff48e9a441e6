"""`make bench` / `make bench-peers`: Scenarist's speed beside n8n and Kafka's own limit.

Run from the repository root with the workspace venv, e.g. `.venv/bin/python -m bench.peers`.
Nothing here is imported by the product; `make test` does not touch it.
"""
