"""Question files: CSV and JSON import (all or nothing, errors by line), export, the starter bank."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, csv_export, messages
from core.errors import Invalid
from core.models import User
from plugins.anti_fraud import questions
from plugins.anti_fraud.models import Question

FORMAT_NAME = "wardens-anti-fraud-questions"
MAX_QUESTIONS = 2000
MAX_FILE_BYTES = 4 * 1024 * 1024  # 2000 questions in Chinese fit with room to spare
MAX_ERRORS = 50
STARTER_BANK = Path(__file__).with_name("starter_bank.json")
LETTERS = "ABCDEF"
CHOICE_COLUMNS = tuple(f"choice_{letter.lower()}" for letter in LETTERS)
CSV_COLUMNS = ("key", "category", "locale", "difficulty", "text", *CHOICE_COLUMNS, "correct",
               "explanation")
# Officers keep banks in spreadsheets, often with Chinese headers.
HEADER_ALIASES = {
    "编号": "key", "类别": "category", "分类": "category", "语言": "locale", "难度": "difficulty",
    "题目": "text", "题干": "text", "答案": "correct", "正确答案": "correct", "解析": "explanation",
    **{f"选项{letter}": f"choice_{letter.lower()}" for letter in LETTERS},
}
DIFFICULTY_WORDS = {"easy": 1, "medium": 2, "hard": 3, "易": 1, "中": 2, "难": 3,
                    "简单": 1, "中等": 2, "困难": 3}


@dataclass
class Row:
    """A question read from a file, with the line it starts on."""

    line: int
    data: dict[str, Any]


@dataclass
class ImportResult:
    total: int
    created: int
    updated: int
    unchanged: int
    dry_run: bool = False


class _Errors:
    """Collects line-numbered problems, rendered in the reader's language."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.items: list[dict[str, Any]] = []

    def add(self, line: int | None, field: str | None, code: str, **params: Any) -> None:
        self.items.append({"line": line, "field": field, "code": code,
                           "message": messages.render(code, self.locale, {"field": field, **params})})

    def raise_if_any(self) -> None:
        if self.items:
            shown = sorted(self.items, key=lambda e: e["line"] or 0)[:MAX_ERRORS]
            raise Invalid("import_invalid", count=len(self.items), errors=shown,
                          first_line=shown[0]["line"])


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030: what Excel in China saves."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Invalid("import_unreadable")


# CSV ------------------------------------------------------------------------------------------

def parse_csv(text: str, errors: _Errors, default_locale: str = "zh-CN") -> list[Row]:
    """Rows of a CSV file; a bad header refuses the file, a bad row is noted in ``errors``."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise Invalid("import_empty") from None
    except csv.Error:
        raise Invalid("import_unreadable") from None
    columns = [HEADER_ALIASES.get(h.strip(), h.strip().lower()) for h in header]
    for name in columns:
        if name not in CSV_COLUMNS:
            errors.add(1, name, "import_unknown_column")
    for name in ("category", "text", "choice_a", "choice_b", "correct"):
        if name not in columns:
            errors.add(1, name, "import_missing_column")
    if len(set(columns)) != len(columns):
        errors.add(1, None, "import_duplicate_column")
    errors.raise_if_any()
    rows: list[Row] = []
    line = reader.line_num + 1
    try:
        for values in reader:
            start, line = line, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(columns):
                errors.add(start, None, "import_too_many_values", expected=len(columns))
                continue
            cells = dict(zip(columns, (csv_export.read_cell(v.strip()) for v in values),
                             strict=False))
            rows.append(Row(start, _csv_question(cells, start, errors, default_locale)))
            if len(rows) > MAX_QUESTIONS:
                raise Invalid("import_too_many", max=MAX_QUESTIONS)
    except csv.Error:
        errors.add(line, None, "import_unreadable_line")
    return rows


def _csv_question(cells: dict[str, str], line: int, errors: _Errors,
                  default_locale: str) -> dict[str, Any]:
    choices = [cells[c] for c in CHOICE_COLUMNS if cells.get(c)]
    data: dict[str, Any] = {
        "key": cells.get("key") or None,
        "category": cells.get("category", ""),
        "locale": cells.get("locale") or default_locale,
        "text": cells.get("text", ""),
        "choices": choices,
        "explanation": cells.get("explanation", ""),
    }
    if any(cells.get(c) for c in CHOICE_COLUMNS[len(choices):]):
        errors.add(line, "choices", "import_choice_gap")
    difficulty = cells.get("difficulty", "").lower()
    if not difficulty:
        data["difficulty"] = 1
    elif difficulty.isdecimal():
        data["difficulty"] = int(difficulty)
    else:
        data["difficulty"] = DIFFICULTY_WORDS.get(difficulty, difficulty)
    data["correct"] = parse_answer(cells.get("correct", ""))
    return data


def parse_answer(text: str) -> list[Any]:
    """"A", "A;C", "ac", "1,3" or "1 3" -> [0, 2]; anything unreadable stays to be refused."""
    text = text.strip().upper()
    if not text:
        return []
    parts = [p for p in re.split(r"[\s;,，；、|/]+", text) if p]
    if len(parts) == 1 and parts[0].isalpha():
        parts = list(parts[0])
    answer: list[Any] = []
    for part in parts:
        if part in LETTERS:
            answer.append(LETTERS.index(part))
        elif part.isdecimal() and 1 <= int(part) <= len(LETTERS):
            answer.append(int(part) - 1)
        else:
            answer.append(part)  # check() names it invalid
    return answer


def to_csv(rows: list[Question]) -> str:
    lines = []
    for q in rows:
        choices = q.choices + [""] * (len(LETTERS) - len(q.choices))
        lines.append([q.key or "", q.category, q.locale, q.difficulty, q.text, *choices,
                      ";".join(LETTERS[i] for i in q.correct), q.explanation])
    return csv_export.to_csv(CSV_COLUMNS, lines)


# JSON -----------------------------------------------------------------------------------------

def parse_json(text: str, errors: _Errors, default_locale: str = "zh-CN") -> list[Row]:
    """Items of a JSON file; a bad document refuses the file, a bad item is noted in ``errors``."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        errors.add(exc.lineno, None, "import_json_syntax", column=exc.colno, problem=exc.msg)
        errors.raise_if_any()
    items = document.get("questions") if isinstance(document, dict) else document
    if isinstance(document, dict) and (document.get("format", FORMAT_NAME) != FORMAT_NAME
                                       or document.get("version", 1) != 1):
        errors.add(1, "format", "import_format_unknown", format=FORMAT_NAME)
        errors.raise_if_any()
    if not isinstance(items, list):
        errors.add(1, "questions", "import_json_shape")
        errors.raise_if_any()
    if not items:
        raise Invalid("import_empty")
    if len(items) > MAX_QUESTIONS:
        raise Invalid("import_too_many", max=MAX_QUESTIONS)
    lines = _item_lines(text)
    rows: list[Row] = []
    for line, item in zip(lines, items, strict=True):
        if not isinstance(item, dict):
            errors.add(line, None, "import_json_shape")
            continue
        for name in sorted(set(item) - set(questions.FIELDS) - {"id"}):
            errors.add(line, name, "import_unknown_field")
        data = {k: v for k, v in item.items() if k in questions.FIELDS}
        data.setdefault("locale", default_locale)
        rows.append(Row(line, data))
    return rows


def _item_lines(text: str) -> list[int]:
    """The line each item of the question list starts on (the text is known to be valid JSON)."""
    decoder = json.JSONDecoder()
    ws = re.compile(r"[ \t\n\r]*")

    def skip(i: int) -> int:
        match = ws.match(text, i)
        return match.end() if match else i

    i = skip(0)
    if text[i] == "{":
        i, start = skip(i + 1), None
        while text[i] != "}":
            key, i = decoder.raw_decode(text, i)
            i = skip(skip(i) + 1)  # past the colon
            if key == "questions":
                start = i  # the last "questions" wins, as in json.loads
            _, i = decoder.raw_decode(text, i)
            i = skip(i)
            if text[i] == ",":
                i = skip(i + 1)
        i = start if start is not None else i
    lines, line, counted = [], 1, 0
    i = skip(i + 1)
    while text[i] != "]":
        line += text.count("\n", counted, i)
        counted = i
        lines.append(line)
        _, i = decoder.raw_decode(text, i)
        i = skip(i)
        if text[i] == ",":
            i = skip(i + 1)
    return lines


def to_json(rows: list[Question]) -> str:
    document = {"format": FORMAT_NAME, "version": 1, "questions": [
        {name: getattr(q, name) for name in questions.FIELDS} for q in rows]}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# Import ---------------------------------------------------------------------------------------

def parse(data: bytes, fmt: str, locale: str, default_locale: str = "zh-CN") -> list[Row]:
    """Read a question file; 422 ``import_invalid`` lists every bad line."""
    text = decode(data)
    if not text.strip():
        raise Invalid("import_empty")
    errors = _Errors(locale)
    rows = parse_csv(text, errors, default_locale) if fmt == "csv" else \
        parse_json(text, errors, default_locale)
    if not rows and not errors.items:
        raise Invalid("import_empty")
    seen: dict[str, int] = {}
    for row in rows:
        for problem in questions.check(row.data):
            errors.add(row.line, problem.field, problem.code, **problem.params)
        key = row.data.get("key")
        if isinstance(key, str) and key:
            if key in seen:
                errors.add(row.line, "key", "import_duplicate_key", first_line=seen[key])
            seen.setdefault(key, row.line)
    errors.raise_if_any()
    return rows


def import_questions(session: so.Session, station_id: int, data: bytes, fmt: str, *,
                     by: User | None, role: str = "", locale: str = "zh-CN",
                     default_locale: str = "zh-CN", dry_run: bool = False) -> ImportResult:
    """Import a CSV or JSON file into the station's bank, all or nothing.

    A question whose key is already in the bank is updated; others are added. Any bad line
    refuses the whole file (422 ``import_invalid`` with each line's problems) and stores nothing.
    """
    rows = parse(data, fmt, locale, default_locale)
    result = store(session, station_id, [questions.normalized(r.data) for r in rows],
                   by=by, overwrite=True, dry_run=dry_run)
    if not dry_run:
        audit.record(session, actor=by, role=role, action="anti_fraud.questions_imported",
                     station_id=station_id, format=fmt, created=result.created,
                     updated=result.updated)
    return result


def store(session: so.Session, station_id: int, items: list[dict[str, Any]], *,
          by: User | None, overwrite: bool, dry_run: bool = False) -> ImportResult:
    keys = [i["key"] for i in items if i["key"]]
    existing = {q.key: q for q in session.scalars(sa.select(Question).where(
        Question.station_id == station_id, Question.key.in_(keys)))} if keys else {}
    result = ImportResult(total=len(items), created=0, updated=0, unchanged=0, dry_run=dry_run)
    now = clock.now()
    for item in items:
        question = existing.get(item["key"]) if item["key"] else None
        if question is None:
            result.created += 1
            if not dry_run:
                session.add(Question(station_id=station_id, created_by=by.id if by else None,
                                     created_at=now, updated_at=now, **item))
        elif not overwrite or all(getattr(question, k) == v for k, v in item.items()):
            result.unchanged += 1
        else:
            result.updated += 1
            if not dry_run:
                for name, value in item.items():
                    setattr(question, name, value)
                question.updated_at = now
    session.flush()
    return result


def load_starter_bank(session: so.Session, station_id: int, locales: list[str] | tuple[str, ...],
                      *, by: User | None = None, role: str = "") -> ImportResult:
    """Add the starter questions a station lacks; questions it already has (edited or archived
    ones included) are left as they are, so loading twice changes nothing."""
    rows = parse(STARTER_BANK.read_bytes(), "json", "en")
    items = [questions.normalized(r.data) for r in rows if r.data["locale"] in locales]
    result = store(session, station_id, items, by=by, overwrite=False)
    audit.record(session, actor=by, role=role, action="anti_fraud.starter_bank_loaded",
                 station_id=station_id, created=result.created, locales=list(locales))
    return result


def export_rows(session: so.Session, station_id: int, *, category: str | None = None,
                locale: str | None = None) -> list[Question]:
    query = sa.select(Question).where(Question.station_id == station_id,
                                      Question.archived_at.is_(None))
    if category:
        query = query.where(Question.category == category)
    if locale:
        query = query.where(Question.locale == locale)
    return list(session.scalars(query.order_by(Question.category, Question.id)))
