"""Loads a partnerlens CSV export into Tableau's own Hyper engine (tableauhyperapi) the way
a Tableau extract would hold it, and prints, as JSON, what Hyper's SQL says about it: the
row count, the sum of every numeric column, and the sums per value of the first column.

Usage: hyper_sums.py CSV HYPER COLUMNS, where COLUMNS is `name:type,…` with type `date`,
`text`, `int` (counts) or `money` (NUMERIC(18,2), exact cents)."""
import json
import os
import sys

from tableauhyperapi import (
    Connection,
    CreateMode,
    HyperProcess,
    SqlType,
    TableDefinition,
    TableName,
    Telemetry,
    escape_name,
    escape_string_literal,
)

csv_path, hyper_path, spec = sys.argv[1], sys.argv[2], sys.argv[3]
TYPES = {
    "date": SqlType.date(),
    "text": SqlType.text(),
    "int": SqlType.big_int(),
    "money": SqlType.numeric(18, 2),
    "ratio": SqlType.double(),
}
columns = [tuple(part.split(":")) for part in spec.split(",")]
table = TableDefinition(
    TableName("Extract", "kpis"),
    [TableDefinition.Column(name, TYPES[kind]) for name, kind in columns],
)
numeric = [name for name, kind in columns if kind in ("int", "money")]

# Hyper's own log goes beside the extract, not into the working directory.
log_dir = os.path.dirname(os.path.abspath(hyper_path))
with HyperProcess(
    telemetry=Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU, parameters={"log_dir": log_dir}
) as hyper:
    with Connection(hyper.endpoint, hyper_path, CreateMode.CREATE_AND_REPLACE) as connection:
        connection.catalog.create_schema("Extract")
        connection.catalog.create_table(table)
        loaded = connection.execute_command(
            f"COPY {table.table_name} FROM {escape_string_literal(csv_path)} "
            "WITH (format csv, NULL '', delimiter ',', header)"
        )
        sums = ", ".join(f"SUM({escape_name(n)})" for n in numeric)
        [totals] = connection.execute_list_query(f"SELECT COUNT(*), {sums} FROM {table.table_name}")
        first = escape_name(columns[0][0])
        by_first = connection.execute_list_query(
            f"SELECT CAST({first} AS TEXT), {sums} FROM {table.table_name} GROUP BY {first} ORDER BY 1"
        )

print(
    json.dumps(
        {
            "loaded": loaded,
            "rows": totals[0],
            "sums": {n: str(v) for n, v in zip(numeric, totals[1:])},
            "by_first": {str(r[0]): {n: str(v) for n, v in zip(numeric, r[1:])} for r in by_first},
        }
    )
)
