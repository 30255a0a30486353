"""Schemathesis hooks for partnerlens: the NDJSON import bodies."""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    """An array becomes one JSON document per line; anything else one line."""
    rows = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(row) for row in rows).encode()
