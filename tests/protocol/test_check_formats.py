"""`cim-nix check --format sarif` against the SARIF 2.1.0 JSON schema.

The schema is fetched by scripts/test (tests/protocol/fetch_sarif_schema.py)
and named by ``$CIM_NIX_SARIF_SCHEMA``; without it this test fails: it does
not skip.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

import jsonschema

from conftest import REPO_ROOT, SERVER_BIN

SCHEMA = pathlib.Path(
    os.environ.get("CIM_NIX_SARIF_SCHEMA", REPO_ROOT / "target/sarif-2.1.0-rtm.5.json")
)

# A file with a fix (useless parentheses), related locations (a key defined
# twice), an error and an information finding, and a non-ASCII character
# before a finding on its line.
MODULE = """{ config, lib, pkgs, ... }:
{
  services.openssh.settings.PermitRootLogin = "yes";
  users.users.root.hashedPassword = "$6$abc$def";
  networking.hostName = "host";
  networking.hostName = "other";
  environment.etc."mötd".text = (config.networking.hostName);
}
"""


def check_sarif(tmp_path: pathlib.Path) -> dict:
    (tmp_path / "hosts").mkdir()
    (tmp_path / "hosts" / "web server.nix").write_text(MODULE, encoding="utf-8")
    out = subprocess.run(
        [str(SERVER_BIN), "check", "--format", "sarif", "hosts"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1, out.stderr
    return json.loads(out.stdout)


def test_sarif_output_is_valid_against_the_schema(tmp_path):
    assert SCHEMA.is_file(), f"the SARIF schema is missing: {SCHEMA} (scripts/test fetches it)"
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    log = check_sarif(tmp_path)
    jsonschema.Draft4Validator.check_schema(schema)
    errors = sorted(
        jsonschema.Draft4Validator(schema).iter_errors(log), key=lambda e: list(e.path)
    )
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_sarif_output_says_what_a_code_scanner_needs(tmp_path):
    log = check_sarif(tmp_path)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    by_id = {r["id"]: i for i, r in enumerate(rules)}
    results = {r["ruleId"]: r for r in run["results"]}

    root = results["ssh-root-login"]
    assert root["level"] == "error"
    assert rules[root["ruleIndex"]]["id"] == "ssh-root-login"
    assert rules[by_id["ssh-root-login"]]["helpUri"].endswith("/doc/rules/ssh-root-login.md")
    location = root["locations"][0]["physicalLocation"]
    # A relative, percent-encoded URI, and the value's region.
    assert location["artifactLocation"]["uri"] == "hosts/web%20server.nix"
    assert location["region"] == {
        "startLine": 3,
        "startColumn": 47,
        "endLine": 3,
        "endColumn": 52,
    }

    assert results["hashed-password-in-store"]["level"] == "note"
    duplicate = results["duplicate-key"]
    assert duplicate["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 5

    # Columns count characters (`columnKind`): `é` is one.
    assert run["columnKind"] == "unicodeCodePoints"
    parens = results["useless-parens"]
    region = parens["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (7, 33)
    replacement = parens["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["insertedContent"]["text"] == "config.networking.hostName"
    assert replacement["deletedRegion"]["startColumn"] == 33
