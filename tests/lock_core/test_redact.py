"""Secrets never reach run.lock: key words, globs, env patterns, command lines, URLs."""

from __future__ import annotations

import pytest

from naga.lock.redact import (
    SecretMatcher,
    redact_command,
    redact_config,
    strip_url_credentials,
)


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "db.password",
        "DB_PASSWORD",
        "passwd",
        "client_secret",
        "github_token",
        "openai_api_key",
        "apiKey",
        "apikey",
        "AWS_SECRET_ACCESS_KEY",
        "ssh.private_key",
        "credentials",
        "gcp.credential",
        "auth",
        "auth_header",
        "servers[0].token",
    ],
)
def test_secret_keys_match(key: str) -> None:
    assert SecretMatcher()(key)


@pytest.mark.parametrize(
    "key", ["tokenizer", "max_tokens", "author", "authors.0", "param", "keyboard", "secretary_name"]
)
def test_ordinary_keys_do_not_match(key: str) -> None:
    assert not SecretMatcher()(key)


def test_extra_patterns_words_and_globs(monkeypatch: pytest.MonkeyPatch) -> None:
    matcher = SecretMatcher(["dsn", "db.*"])
    assert matcher("sentry_dsn")
    assert matcher("db.host")
    assert not matcher("cache.host")
    monkeypatch.setenv("NAGA_REDACT_KEYS", "cookie, *.salt")
    env_matcher = SecretMatcher()
    assert env_matcher("session_cookie")
    assert env_matcher("hashing.salt")


def test_redact_config_replaces_values_and_lists_keys() -> None:
    config = {
        "param": 1,
        "db": {"host": "h", "password": "hunter2", "credentials": {"user": "u", "pw": "p"}},
        "servers": [{"token": "t1"}, {"name": "n"}],
        "api_key": None,
        "secret": "",
        "tokenizer": "bert",
    }
    redacted, keys = redact_config(config, SecretMatcher())
    assert redacted == {
        "param": 1,
        "db": {"host": "h", "password": "***", "credentials": "***"},
        "servers": [{"token": "***"}, {"name": "n"}],
        "api_key": None,
        "secret": "",
        "tokenizer": "bert",
    }
    assert keys == ["db.credentials", "db.password", "servers[0].token"]
    assert config["db"]["password"] == "hunter2"  # input untouched


def test_forced_keys_are_redacted() -> None:
    redacted, keys = redact_config({"a": {"b": 1}}, SecretMatcher(), keys=["a.b"])
    assert redacted == {"a": {"b": "***"}}
    assert keys == ["a.b"]


def test_urls_in_values_lose_credentials() -> None:
    redacted, keys = redact_config(
        {"tracking_uri": "https://alice:s3cret@mlflow.lab.org/api", "n": "x"}, SecretMatcher()
    )
    assert redacted["tracking_uri"] == "https://mlflow.lab.org/api"
    assert keys == ["tracking_uri"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pw@host/x", "https://host/x"),
        ("https://ghp_abc@github.com/o/r.git", "https://github.com/o/r.git"),
        ("ssh://git@host/x", "ssh://git@host/x"),
        ("postgresql://me:pw@db:5432/x and more", "postgresql://me@db:5432/x and more"),
        ("https://u:p@ss@host/x", "https://host/x"),  # an unescaped @ in the password
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("no url here", "no url here"),
    ],
)
def test_strip_url_credentials(url: str, expected: str) -> None:
    assert strip_url_credentials(url) == expected


def test_redact_command_line() -> None:
    argv = [
        "process.py",
        "-o",
        "db.password=x",
        "+api_key=abc",
        "param=10",
        "--token",
        "tok",
        "--password=pw",
        "tokenizer=bert",
        "uri=https://u:p@h/x",
    ]
    assert redact_command(argv, SecretMatcher()) == [
        "process.py",
        "-o",
        "db.password=***",
        "+api_key=***",
        "param=10",
        "--token",
        "***",
        "--password=***",
        "tokenizer=bert",
        "uri=https://h/x",
    ]
    assert redact_command(["a.b=1"], SecretMatcher(), keys=["a.b"]) == ["a.b=***"]
    # A key redacted earlier in the run stays redacted in either form.
    assert redact_command(["--dsn", "abc", "--dsn=abc"], SecretMatcher(), keys=["dsn"]) == [
        "--dsn",
        "***",
        "--dsn=***",
    ]
