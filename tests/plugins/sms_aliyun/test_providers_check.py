"""``wardens providers check``: the providers and their roles, nothing sent unless told; with
--text a test text through sms_aliyun (a local stand-in at the machine's edge, see conftest)."""

from __future__ import annotations

from click.testing import CliRunner

from api.cli import cli
from tests.plugins.sms_aliyun.conftest import ENV, TOML


def test_the_check_sends_nothing_unless_told(committed, dysms, tmp_path, test_database_url,
                                             monkeypatch):
    server, _ = dysms
    server.reset()
    toml = tmp_path / "plugins.toml"
    toml.write_text(TOML.format(endpoint=server.endpoint).replace(
        '"care_visits.ack_code"', 'providers_check_text = {template = "SMS_900"}\n#'),
        encoding="utf-8")
    for name, value in {**ENV, "WARDENS_PLUGINS_TOML": str(toml),
                        "WARDENS_DATABASE_URL": test_database_url}.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    checked = runner.invoke(cli, ["providers", "check"])
    assert checked.exit_code == 0, checked.output
    assert checked.output.splitlines() == ["sms_aliyun 1.0.0: text messages; settings checked"]
    assert server.requests == []

    sent = runner.invoke(cli, ["providers", "check", "--text", "+8613900009999"])
    assert sent.exit_code == 0, sent.output
    assert "test text to +8613900009999: sent by sms_aliyun" in sent.output
    (request,) = server.requests
    assert request.form()["TemplateCode"] == "SMS_900"

    broken = tmp_path / "broken.toml"
    broken.write_text(toml.read_text(encoding="utf-8").replace('sign_name = "平安守望"\n', ""),
                      encoding="utf-8")
    monkeypatch.setenv("WARDENS_PLUGINS_TOML", str(broken))
    refused = runner.invoke(cli, ["providers", "check"])
    assert refused.exit_code != 0 and "sign_name" in str(refused.exception or refused.output)
