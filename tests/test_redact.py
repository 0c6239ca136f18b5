"""Masking: secret values and their encodings never reach what is written."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
from urllib.parse import quote, quote_plus

import pytest

from etlkit.profiles import load_profiles, resolve_profile
from etlkit.redact import Masker, redact_config, secret_forms

CANARY = "etlkit-canary/Q7+x=z&k%9 s3cr3t"


def encodings(secret: str) -> dict[str, str]:
    raw = secret.encode()
    return {
        "plain": secret,
        "quote": quote(secret),
        "quote_safe": quote(secret, safe=""),
        "quote_plus": quote_plus(secret),
        "base64": base64.b64encode(raw).decode(),
        "base64_unpadded": base64.b64encode(raw).decode().rstrip("="),
        "base64_urlsafe": base64.urlsafe_b64encode(raw).decode(),
        "hex": raw.hex(),
        "hex_upper": raw.hex().upper(),
    }


@pytest.mark.parametrize("form", sorted(encodings(CANARY)))
def test_every_encoding_of_a_secret_is_masked(form):
    text = encodings(CANARY)[form]

    masked = Masker([CANARY]).mask_text(f"before {text} after")

    assert masked == "before *** after"


@pytest.mark.parametrize("prefix", range(6))
@pytest.mark.parametrize("suffix", range(4))
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_a_secret_inside_a_longer_base64_text_is_masked(prefix, suffix, encode):
    plain = b"p" * prefix + CANARY.encode() + b"s" * suffix + b'","ok":true}'

    masked = Masker([CANARY]).mask_bytes(encode(plain))

    assert b"***" in masked
    for text in encodings(CANARY).values():
        assert text.encode() not in masked


def test_a_secret_split_across_chunks_is_masked_at_every_split():
    masker = Masker([CANARY])
    data = f"connecting with password={CANARY} to the source\n".encode()

    for cut in range(len(data) + 1):
        stream = masker.stream()
        out = stream.feed(data[:cut]) + stream.feed(data[cut:]) + stream.finish()
        assert out == b"connecting with password=*** to the source\n"


def test_a_stream_fed_one_byte_at_a_time_is_masked_like_a_whole():
    masker = Masker([CANARY, "second-secret"])
    data = f"a {CANARY} b second-secret c {CANARY}".encode()
    stream = masker.stream()

    out = b"".join(stream.feed(data[i : i + 1]) for i in range(len(data)))
    out += stream.finish()

    assert out == masker.mask_bytes(data) == b"a *** b *** c ***"


def test_a_stream_holds_back_only_what_could_start_a_secret():
    masker = Masker(["abcdef"])
    stream = masker.stream()
    data = b"0123456789" * 4
    held = masker.longest - 1

    assert stream.feed(data) == data[:-held]
    assert stream.finish() == data[-held:]


def test_a_masker_without_secrets_changes_nothing():
    masker = Masker(["", ""])
    stream = masker.stream()

    assert masker.mask_text("nothing to hide") == "nothing to hide"
    assert stream.feed(b"abc") + stream.finish() == b"abc"


def test_secret_forms_cover_the_common_encodings():
    forms = secret_forms("p@ss word")

    assert {b"p@ss word", b"p%40ss%20word", b"p%40ss+word"} <= forms
    assert b"7040737320776f7264" in forms
    assert base64.b64encode(b"p@ss word") in forms


def test_masking_works_on_values_and_files(tmp_path):
    masker = Masker([CANARY])
    path = tmp_path / "results.json"
    path.write_text(f'{{"url": "{quote(CANARY)}"}}')

    assert masker.mask_value({"a": [CANARY, 1], CANARY: None}) == {
        "a": ["***", 1],
        "***": None,
    }
    assert masker.mask_file(path) is True
    assert path.read_text() == '{"url": "***"}'
    assert masker.mask_file(path) is False


def test_config_is_redacted_by_key_at_any_depth_and_any_case():
    config = {
        "url": "https://ch.example.com",
        "Password": "x",
        "nested": {"TOKEN": {"deep": 1}, "keep": "visible"},
        "streams": [{"api_key": "y", "name": "events"}],
        "note": f"uses {CANARY}",
    }

    keys = ["password", "token", "API_KEY"]

    redacted = redact_config(config, keys, Masker([CANARY]))

    assert redacted == {
        "url": "https://ch.example.com",
        "Password": "***",
        "nested": {"TOKEN": "***", "keep": "visible"},
        "streams": [{"api_key": "***", "name": "events"}],
        "note": "uses ***",
    }
    assert config["Password"] == "x"


CHILD = r"""
import base64, os, sys, time
from urllib.parse import quote, quote_plus

secret = os.environ["SOURCE_CLICKHOUSE_PASSWORD"]
raw = secret.encode()
half = len(secret) // 2

print("plain:", secret, flush=True)
sys.stdout.write("split: " + secret[:half])
sys.stdout.flush()
time.sleep(0.3)
sys.stdout.write(secret[half:] + "\n")
sys.stdout.flush()
print("quote:", quote(secret), "quote_plus:", quote_plus(secret), flush=True)
print("base64:", base64.b64encode(raw).decode(), flush=True)
print("config:", base64.b64encode(b'{"password": "' + raw + b'"}').decode())
print("hex:", raw.hex(), flush=True)
sys.stderr.write("error: auth failed for " + secret[:half])
sys.stderr.flush()
time.sleep(0.3)
sys.stderr.write(secret[half:] + "\n")
print("done", flush=True)
"""


def test_a_canary_from_a_profile_never_reaches_the_written_logs(tmp_path):
    secret_file = tmp_path / "canary.password"
    secret_file.write_text(CANARY + "\n")
    profiles = tmp_path / "profiles.toml"
    profiles.write_text(
        "[profiles.canary]\n"
        f'SOURCE_CLICKHOUSE_PASSWORD = {{ file = "{secret_file}" }}\n'
    )
    profile = load_profiles(profiles).get("canary")
    resolved = resolve_profile(profile, ["SOURCE_CLICKHOUSE_*"], environ={})
    masker = resolved.masker()

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        env={"PATH": os.environ.get("PATH", ""), **resolved.sandbox_env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    logs = {"stdout": tmp_path / "stdout.log", "stderr": tmp_path / "stderr.log"}
    pumps = [
        threading.Thread(target=pump, args=(masker, source, logs[name]))
        for name, source in (("stdout", child.stdout), ("stderr", child.stderr))
    ]
    for thread in pumps:
        thread.start()
    for thread in pumps:
        thread.join(timeout=30)
    assert child.wait(timeout=30) == 0

    written = {name: path.read_bytes() for name, path in logs.items()}
    for name, data in written.items():
        for form, text in encodings(CANARY).items():
            assert text.encode() not in data, f"{form} reached {name}"
        for part in (CANARY[: len(CANARY) // 2], CANARY[len(CANARY) // 2 :]):
            assert part.encode() not in data, f"half of the canary reached {name}"
    lines = written["stdout"].decode().splitlines()
    assert lines[:3] == ["plain: ***", "split: ***", "quote: *** quote_plus: ***"]
    assert lines[3] == "base64: ***"
    assert lines[4].startswith("config: ") and "***" in lines[4]
    assert lines[5:] == ["hex: ***", "done"]
    assert written["stderr"] == b"error: auth failed for ***\n"


def pump(masker: Masker, source, path) -> None:
    with path.open("wb") as sink:
        masker.copy(source, sink, chunk_size=7)
