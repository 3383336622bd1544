"""A report's table as a spreadsheet (.xlsx) or CSV, headed by its station, period and time zone."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core import csv_export
from core.reports import Period

#: the heading lines' own words, in the reader's language
WORDS = {
    "station": {"en": "Station", "zh-CN": "站点"},
    "period": {"en": "Period", "zh-CN": "统计周期"},
    "zone": {"en": "Time zone", "zh-CN": "时区"},
    "made": {"en": "Made", "zh-CN": "生成时间"},
}


@dataclass(frozen=True)
class Table:
    """What a report file holds: its title, where and when it is of, its columns and rows."""

    title: str
    station: str
    period: Period
    made_at: dt.datetime
    headings: Sequence[str]
    rows: Sequence[Sequence[Any]]
    locale: str = "zh-CN"

    def preamble(self) -> list[tuple[str, str]]:
        def word(key: str) -> str:
            return WORDS[key].get(self.locale, WORDS[key]["en"])

        return [(word("station"), self.station),
                (word("period"), f"{self.period.start.isoformat()} – {self.period.end.isoformat()}"),
                (word("zone"), self.period.zone.key),
                (word("made"), self.period.local(self.made_at).strftime("%Y-%m-%d %H:%M"))]

    def cells(self) -> list[list[Any]]:
        """The rows with times in the station's zone (a spreadsheet keeps no time zone)."""
        return [[self._cell(value) for value in row] for row in self.rows]

    def _cell(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return self.period.local(value).replace(tzinfo=None)
        return value


def to_csv(table: Table) -> str:
    """CSV with a byte-order mark (spreadsheets then read it as UTF-8); formula-safe cells."""
    heading = csv_export.to_csv([table.title], [list(line) for line in table.preamble()])
    body = csv_export.to_csv(table.headings, table.cells())
    return "\ufeff" + heading + "\r\n" + body


def to_xlsx(table: Table) -> bytes:
    """An .xlsx workbook of one sheet: title, station, period, zone, then the table."""
    from openpyxl import Workbook  # a heavy import, for this download only
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(table.title)
    sheet.append([table.title])
    sheet["A1"].font = Font(bold=True, size=13)
    for line in table.preamble():
        sheet.append(list(line))
    sheet.append([])
    sheet.append(list(table.headings))
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for row in table.cells():
        sheet.append(row)
    for row in sheet.iter_rows(min_row=1):
        for cell in row:
            # openpyxl stores text starting with "=" as a formula: keep it text.
            if cell.data_type == "f":
                cell.data_type = "s"
            elif isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    for index, heading in enumerate(table.headings, start=1):
        width = max([len(str(heading))] + [len(str(r[index - 1])) for r in table.rows[:200]
                                            if len(r) >= index])
        sheet.column_dimensions[sheet.cell(row=header_row, column=index).column_letter].width = (
            min(60, max(10, width * 1.3)))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    """A sheet's name: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()
    return cleaned[:31] or "Report"
