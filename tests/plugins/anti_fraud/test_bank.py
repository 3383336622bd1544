"""The question bank: officers' edits, CSV/JSON import and export, the starter bank."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from core import events
from core.models import AuditEvent
from plugins.anti_fraud import bank
from plugins.anti_fraud.cli import commands
from plugins.anti_fraud.models import Question

GOOD_CSV = """key,category,locale,difficulty,text,choice_a,choice_b,choice_c,correct,explanation
loan-1,fake_loan,zh-CN,1,放款前要先交手续费，对吗？,对,不对，这是诈骗,,B,正规贷款不会先收费。
loan-2,fake_loan,zh-CN,2,"哪些是虚假贷款的话术？
（多选）",“流水不足要刷流水”,“卡号填错要解冻金”,“请到银行柜台办理”,A;B,两者都是骗局。
brush-1,order_brushing,en,hard,Pay first to earn commission?,Yes,No,,2,A job never asks you to pay.
"""


def count(session, station_id):
    return session.scalar(sa.select(sa.func.count()).select_from(Question).where(
        Question.station_id == station_id))


def import_file(alliance, data, fmt="csv", who=None, **query):
    params = "&".join(f"{k}={v}" for k, v in {"format": fmt, **query}.items())
    return alliance.client.post(f"{alliance.url}/questions/import?{params}", data=data,
                                headers=(who or alliance.officer).headers,
                                content_type="text/csv" if fmt == "csv" else "application/json")


def test_officers_add_change_and_archive_questions(alliance, session):
    question = alliance.question(1, category="fake_loan", difficulty=2, key="my-1",
                                 choices=["a", "b", "c"], correct=[2, 0])
    assert question["correct"] == [0, 2] and question["locale"] == "zh-CN"
    changed = alliance.ok(alliance.patch(alliance.officer, f"/questions/{question['id']}",
                                         {"text": "New text?", "correct": [1]}))
    assert changed["text"] == "New text?" and changed["correct"] == [1]
    assert alliance.client.delete(f"{alliance.url}/questions/{question['id']}",
                                  headers=alliance.officer.headers).status_code == 204
    assert alliance.ok(alliance.get(alliance.officer, "/questions")) == []
    archived = alliance.ok(alliance.get(alliance.officer, "/questions?archived=true"))
    assert [q["id"] for q in archived] == [question["id"]] and archived[0]["archived_at"]
    restored = alliance.ok(alliance.patch(alliance.officer, f"/questions/{question['id']}",
                                          {"archived": False}))
    assert restored["archived_at"] is None
    actions = set(session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.station_id == alliance.station.id)))
    assert {"anti_fraud.question_created", "anti_fraud.question_updated",
            "anti_fraud.question_archived"} <= actions


@pytest.mark.parametrize(("fields", "code", "field"), [
    ({"choices": ["only one"]}, "question_choices_count", "choices"),
    ({"choices": list("abcdefg")}, "question_choices_count", "choices"),
    ({"choices": ["a", " a "]}, "question_choices_duplicate", "choices"),
    ({"choices": ["a", "  "]}, "question_choice_empty", "choices"),
    ({"correct": []}, "question_field_required", "correct"),
    ({"correct": [4]}, "question_correct_invalid", "correct"),
    ({"correct": [0, 0]}, "question_correct_invalid", "correct"),
    ({"category": "Fake Loan"}, "question_category_invalid", "category"),
    ({"difficulty": 4}, "question_difficulty_invalid", "difficulty"),
    ({"text": "x" * 1001}, "question_field_too_long", "text"),
    ({"key": "has space"}, "question_key_invalid", "key"),
])
def test_a_bad_question_is_refused_with_its_code(alliance, session, fields, code, field):
    body = {"category": "fake_loan", "text": "Q?", "choices": ["a", "b", "c", "d"],
            "correct": [0], **fields}
    answer = alliance.post(alliance.officer, "/questions", body)
    assert answer.status_code == 422, answer.json
    assert answer.json["code"] == code and answer.json["details"]["field"] == field
    assert count(session, alliance.station.id) == 0


def test_a_taken_key_is_refused(alliance):
    alliance.question(1, key="k-1")
    answer = alliance.post(alliance.officer, "/questions", {
        "key": "k-1", "category": "fake_loan", "text": "Q?", "choices": ["a", "b"], "correct": [0]})
    assert answer.status_code == 422 and answer.json["code"] == "question_key_taken"


def test_a_csv_file_imports_with_multiline_cells_letters_and_numbers(alliance, session):
    result = alliance.ok(import_file(alliance, GOOD_CSV.encode()))
    assert result == {"total": 3, "created": 3, "updated": 0, "unchanged": 0, "dry_run": False}
    stored = {q.key: q for q in session.scalars(sa.select(Question))}
    assert stored["loan-1"].correct == [1] and stored["loan-1"].choices == ["对", "不对，这是诈骗"]
    assert stored["loan-2"].correct == [0, 1] and "\n" in stored["loan-2"].text
    assert stored["brush-1"].locale == "en" and stored["brush-1"].difficulty == 3
    assert stored["brush-1"].correct == [1]


def test_a_bad_csv_reports_each_line_and_imports_nothing(alliance, session):
    bad = GOOD_CSV + (
        "loan-3,fake_loan,zh-CN,1,Only one choice?,yes,,,A,\n"          # line 6
        "loan-1,fake_loan,zh-CN,1,Duplicate key?,a,b,,A,\n"             # line 7
        "loan-4,fake_loan,xx,9,Bad locale and difficulty?,a,b,,C,\n"   # line 8
    )
    answer = import_file(alliance, bad.encode())
    assert answer.status_code == 422 and answer.json["code"] == "import_invalid"
    errors = [(e["line"], e["field"], e["code"]) for e in answer.json["details"]["errors"]]
    assert errors == [
        (6, "choices", "question_choices_count"),
        (7, "key", "import_duplicate_key"),
        (8, "locale", "question_locale_invalid"),
        (8, "difficulty", "question_difficulty_invalid"),
        (8, "correct", "question_correct_invalid"),
    ]
    assert answer.json["details"]["first_line"] == 6
    assert "第 6 行" in answer.json["message"]
    assert all(e["message"] for e in answer.json["details"]["errors"])
    assert count(session, alliance.station.id) == 0  # the three good lines were not kept either


def test_import_errors_speak_the_readers_language(alliance):
    bad = "category,text,choice_a,choice_b,correct\nfake_loan,Q?,a,b,Z\n"
    answer = alliance.client.post(f"{alliance.url}/questions/import?format=csv", data=bad,
                                  headers={**alliance.officer.headers, "Accept-Language": "en"},
                                  content_type="text/csv")
    assert answer.json["message"].startswith("The file has 1 problem(s), the first on line 2")
    assert answer.json["details"]["errors"][0]["message"].startswith("The correct answer")


def test_a_csv_with_unknown_or_missing_columns_is_refused_on_line_1(alliance, session):
    answer = import_file(alliance, b"category,question,choice_a,correct\nfake_loan,Q,a,A\n")
    errors = [(e["line"], e["field"], e["code"]) for e in answer.json["details"]["errors"]]
    assert (1, "question", "import_unknown_column") in errors
    assert (1, "text", "import_missing_column") in errors
    assert (1, "choice_b", "import_missing_column") in errors
    assert count(session, alliance.station.id) == 0


def test_an_excel_csv_in_gb18030_with_chinese_headers_imports(alliance, session):
    text = ("编号,类别,题目,选项A,选项B,答案,解析,难度\n"
            "q1,fake_shopping,低价名牌包可信吗？,可信,不可信,B,低价诱惑。,易\n")
    result = alliance.ok(import_file(alliance, text.encode("gb18030")))
    assert result["created"] == 1
    stored = session.scalar(sa.select(Question).where(Question.key == "q1"))
    assert stored.text == "低价名牌包可信吗？" and stored.correct == [1] and stored.difficulty == 1


def test_reimporting_updates_by_key_and_dry_run_stores_nothing(alliance, session):
    alliance.ok(import_file(alliance, GOOD_CSV.encode()))
    changed = GOOD_CSV.replace("正规贷款不会先收费。", "正规贷款放款前不收任何费用。")
    dry = alliance.ok(import_file(alliance, changed.encode(), dry_run="true"))
    assert dry == {"total": 3, "created": 0, "updated": 1, "unchanged": 2, "dry_run": True}
    assert session.scalar(sa.select(Question.explanation).where(Question.key == "loan-1")) == \
        "正规贷款不会先收费。"
    real = alliance.ok(import_file(alliance, changed.encode()))
    assert real["updated"] == 1 and count(session, alliance.station.id) == 3
    session.expire_all()
    assert session.scalar(sa.select(Question.explanation).where(Question.key == "loan-1")) == \
        "正规贷款放款前不收任何费用。"


def test_a_bad_json_file_reports_item_lines_and_imports_nothing(alliance, session):
    document = {"format": "wardens-anti-fraud-questions", "version": 1, "questions": [
        {"category": "fake_loan", "text": "Good?", "choices": ["a", "b"], "correct": [0]},
        {"category": "fake_loan", "text": "Bad?", "choices": "a,b", "correct": [0]},
        {"category": "fake_loan", "text": "Extra?", "choices": ["a", "b"], "correct": [1],
         "answer": "b"},
    ]}
    text = json.dumps(document, indent=2)
    answer = import_file(alliance, text.encode(), fmt="json")
    assert answer.status_code == 422, answer.json
    errors = [(e["line"], e["field"], e["code"]) for e in answer.json["details"]["errors"]]
    lines = text.splitlines()
    second = next(n for n, line in enumerate(lines, 1) if '"Bad?"' in line) - 2
    third = next(n for n, line in enumerate(lines, 1) if '"Extra?"' in line) - 2
    assert errors == [(second, "choices", "question_field_type"),
                      (third, "answer", "import_unknown_field")]
    assert count(session, alliance.station.id) == 0
    syntax = import_file(alliance, b'[\n {"category": "x",\n  oops}\n]', fmt="json")
    assert syntax.json["details"]["errors"][0]["line"] == 3
    assert syntax.json["details"]["errors"][0]["code"] == "import_json_syntax"


def test_export_then_import_round_trips_in_both_formats(alliance, world, session):
    alliance.ok(import_file(alliance, GOOD_CSV.encode()))
    alliance.question(9, category="screen_sharing", choices=["a", "b", "c", "d", "e", "f"],
                      correct=[5, 1])
    for fmt in ("csv", "json"):
        exported = alliance.client.get(f"{alliance.url}/questions/export?format={fmt}",
                                       headers=alliance.officer.headers)
        assert exported.status_code == 200
        assert exported.headers["Content-Disposition"].endswith(f'.{fmt}"')
        west = world.station(f"west-{fmt}", plugins=("anti_fraud",))
        officer = world.person("w", station=west, roles=["officer"])
        answer = world.client.post(
            f"/api/v1/stations/west-{fmt}/anti-fraud/questions/import?format={fmt}",
            data=exported.data, headers=officer.headers,
            content_type="text/csv" if fmt == "csv" else "application/json")
        assert answer.status_code == 200 and answer.json["created"] == 4, answer.json

        def shape(station_id):
            return sorted((q.key or "", q.category, q.locale, q.difficulty, q.text,
                           tuple(q.choices), tuple(q.correct), q.explanation)
                          for q in session.scalars(sa.select(Question).where(
                              Question.station_id == station_id)))

        assert shape(west.id) == shape(alliance.station.id)


def test_a_form_upload_with_a_file_name_works(alliance, session):
    import io

    answer = alliance.client.post(
        f"{alliance.url}/questions/import",
        data={"file": (io.BytesIO(GOOD_CSV.encode()), "bank.csv")},
        headers=alliance.officer.headers, content_type="multipart/form-data")
    assert answer.status_code == 200 and answer.json["created"] == 3
    unknown = alliance.client.post(f"{alliance.url}/questions/import", data=b"x",
                                   headers=alliance.officer.headers,
                                   content_type="application/octet-stream")
    assert unknown.status_code == 422 and unknown.json["code"] == "import_format_invalid"


def test_the_starter_bank_is_good_and_loads_once(alliance, session):
    rows = bank.parse(bank.STARTER_BANK.read_bytes(), "json", "en")
    chinese = [r.data for r in rows if r.data["locale"] == "zh-CN"]
    english = [r.data for r in rows if r.data["locale"] == "en"]
    assert len(chinese) >= 40 and len(english) == len(chinese)
    assert len({q["category"] for q in chinese}) >= 10
    assert {"order_brushing", "impersonating_officials", "fake_customer_service",
            "romance_investment", "fake_loan", "fake_shopping", "game_trading",
            "screen_sharing"} <= {q["category"] for q in chinese}
    assert all(q["explanation"] for q in chinese + english)
    assert any(len(q["correct"]) > 1 for q in chinese)
    assert len({q["correct"][0] for q in chinese if len(q["correct"]) == 1}) == 4  # not all "A"
    first = alliance.ok(alliance.post(alliance.officer, "/questions/starter-bank", {}))
    assert first["created"] == len(rows)
    question = session.scalar(sa.select(Question).where(Question.key == "starter-zh-loan-01"))
    alliance.ok(alliance.patch(alliance.officer, f"/questions/{question.id}", {"text": "改过的题目？"}))
    second = alliance.ok(alliance.post(alliance.officer, "/questions/starter-bank",
                                       {"locales": ["zh-CN"]}))
    assert second["created"] == 0 and second["unchanged"] == len(chinese)
    session.expire_all()
    assert session.get(Question, question.id).text == "改过的题目？"  # the station's edit stays
    categories = alliance.ok(alliance.get(alliance.resident(), "/categories"))
    loans = next(c for c in categories if c["category"] == "fake_loan")
    assert loans["labels"]["zh-CN"] == "虚假网络贷款" and loans["questions"] == {"zh-CN": 4, "en": 4}


def test_switching_the_plugin_on_loads_the_starter_bank(world, session):
    station = world.station("north")
    admin = world.person("admin", station=station, roles=["admin"])
    url = "/api/v1/stations/north/plugins/anti_fraud"
    on = world.client.put(url, json={"enabled": True}, headers=admin.headers)
    assert on.status_code == 200 and on.json["enabled"] is True
    loaded = count(session, station.id)
    assert loaded == len(bank.parse(bank.STARTER_BANK.read_bytes(), "json", "en"))
    assert world.client.put(url, json={"enabled": False}, headers=admin.headers).status_code == 200
    assert world.client.put(url, json={"enabled": True}, headers=admin.headers).status_code == 200
    assert count(session, station.id) == loaded  # on again: nothing twice
    events.plugin_switched(session, station.id, "patrol", True)  # another plugin: not ours
    assert count(session, station.id) == loaded


def test_a_station_may_ask_for_no_starter_bank(world, session):
    station = world.station("south")
    admin = world.person("admin", station=station, roles=["admin"])
    answer = world.client.put("/api/v1/stations/south/plugins/anti_fraud", headers=admin.headers,
                              json={"enabled": True, "settings": {"starter_bank_locales": ["en"]}})
    assert answer.status_code == 200, answer.json
    assert set(session.scalars(sa.select(Question.locale).where(
        Question.station_id == station.id))) == {"en"}


def test_the_cli_imports_a_file_and_reports_bad_lines(alliance, deployment, session, tmp_path):
    runner = CliRunner()
    group = commands(lambda: deployment)
    good = tmp_path / "bank.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    result = runner.invoke(group, ["import", str(good), "--station", "east"])
    assert result.exit_code == 0, result.output
    assert "imported 3 questions into east: 3 new" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD_CSV + "x,fake_loan,zh-CN,1,Q?,a,,,A,\n", encoding="utf-8")
    result = runner.invoke(group, ["import", str(bad), "--station", "east"])
    assert result.exit_code == 1
    assert "line 6, choices: A question has 2 to 6 choices." in result.output
    assert "nothing was imported" in result.output
    assert count(session, alliance.station.id) == 3
    result = runner.invoke(group, ["import", str(good), "--station", "nowhere"])
    assert result.exit_code == 1 and "no station with code nowhere" in result.output
    out = tmp_path / "out.json"
    result = runner.invoke(group, ["export", "--station", "east", "--output", str(out)])
    assert result.exit_code == 0 and len(json.loads(out.read_text())["questions"]) == 3
    result = runner.invoke(group, ["starter-bank", "--station", "east", "--locale", "en"])
    assert result.exit_code == 0 and "questions added to east" in result.output


def test_the_wardens_command_lists_the_plugin_group():
    from api import cli

    cli._add_plugin_commands()
    try:
        assert set(cli.cli.commands["anti-fraud"].commands) == {"import", "export", "starter-bank"}
    finally:
        cli.cli.commands.pop("anti-fraud", None)
