"""Reads an .xlsx file with openpyxl (a real Excel reader) and prints, as JSON, what the
e2e test checks: the sheet's name, its frozen cell, its auto filter range, and every cell
with its Python type and number format."""
import datetime
import json
import sys

import openpyxl

book = openpyxl.load_workbook(sys.argv[1])
sheet = book.active


def cell(c):
    value = c.value
    if isinstance(value, datetime.datetime):
        kind, value = "date", value.date().isoformat()
    elif isinstance(value, bool) or value is None:
        kind = "empty" if value is None else "bool"
    elif isinstance(value, (int, float)):
        kind = "number"
    else:
        kind = "text"
    return {"type": kind, "value": value, "format": c.number_format}


print(
    json.dumps(
        {
            "sheet": sheet.title,
            "freeze_panes": sheet.freeze_panes,
            "auto_filter": sheet.auto_filter.ref,
            "header_bold": all(c.font.bold for c in sheet[1]),
            "rows": [[cell(c) for c in row] for row in sheet.iter_rows()],
        }
    )
)
