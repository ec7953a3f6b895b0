"""What every editor leans on, with the client capabilities of VS Code,
Neovim (0.7 and 0.10) and Helix: diagnostics pushed (and pulled, for clients
that pull), a quick fix and fix-all applied to the text, formatting and range
formatting applied to the text, and the custom requests the editor commands
send. Then a guard: every capability the server advertises to each client is
listed with the tests that exercise it, so a capability the server starts
advertising fails here until a real-client test uses it.
"""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

import test_ide_features
import test_lsp_protocol
from test_ide_features import CLIENTS
from test_lsp_protocol import (
    TIMEOUT,
    initialize_params,
    open_doc,
    pull,
    wait_for_publish,
)

UNUSED = (
    "{ pkgs, lib, ... }:\n"
    "let\n"
    "  unused = 1;\n"
    "  kept = 2;\n"
    "in\n"
    "{\n"
    "  environment.systemPackages = [ pkgs.git ];\n"
    "  x = kept;\n"
    "}\n"
)

# What is left of UNUSED's body once `unused` is gone.
KEPT = (
    "let\n"
    "  kept = 2;\n"
    "in\n"
    "{\n"
    "  environment.systemPackages = [ pkgs.git ];\n"
    "  x = kept;\n"
    "}\n"
)


async def request(coro):
    return await asyncio.wait_for(coro, TIMEOUT)


def offset(text: str, position: types.Position) -> int:
    """The offset of ``position`` in ASCII text (every encoding agrees)."""
    lines = text.split("\n")
    return sum(len(line) + 1 for line in lines[: position.line]) + position.character


def apply(text: str, edits) -> str:
    """``edits`` applied as the LSP says: all against the original text."""
    spans = sorted(
        ((offset(text, e.range.start), offset(text, e.range.end), e.new_text) for e in edits),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def edits_of(action: types.CodeAction, uri: str):
    edit = action.edit
    if edit.document_changes:
        return [e for change in edit.document_changes for e in change.edits]
    return edit.changes[uri]


async def start(client, tmp_path, name: str, text: str):
    result = await client.initialize_session(initialize_params(CLIENTS[name](), tmp_path))
    uri = (tmp_path / "default.nix").as_uri()
    open_doc(client, uri, 1, text)
    published = await wait_for_publish(client, uri, 1)
    return result.capabilities, uri, published


async def resolved(client, action: types.CodeAction) -> types.CodeAction:
    # VS Code, Neovim and Helix all resolve an action sent without its edit.
    if action.edit is None:
        action = await request(client.code_action_resolve_async(action))
    return action


@pytest.mark.parametrize("name", list(CLIENTS))
async def test_diagnostics_quick_fix_and_fix_all(client, tmp_path, name):
    caps, uri, published = await start(client, tmp_path, name, UNUSED)
    found = sorted(
        (d.code, d.range.start.line, d.range.start.character, d.range.end.character)
        for d in published.diagnostics
    )
    assert found == [("unused-let", 2, 2, 8), ("unused-pattern-field", 0, 8, 11)]

    client_pulls = CLIENTS[name]().text_document.diagnostic is not None
    if client_pulls:
        report = await pull(client, uri)
        assert report.kind == "full"
        assert sorted((d.code, d.range.start.line) for d in report.items) == [
            ("unused-let", 2),
            ("unused-pattern-field", 0),
        ]
    else:
        assert caps.diagnostic_provider is None

    doc = types.TextDocumentIdentifier(uri=uri)
    unused = next(d for d in published.diagnostics if d.range.start.line == 2)
    actions = await request(client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc,
            range=unused.range,
            context=types.CodeActionContext(diagnostics=[unused], only=["quickfix"]),
        )
    ))
    preferred = [a for a in actions if a.is_preferred]
    assert len(preferred) == 1, [a.title for a in actions]
    fix = await resolved(client, preferred[0])
    assert fix.kind == types.CodeActionKind.QuickFix
    assert apply(UNUSED, edits_of(fix, uri)) == "{ pkgs, lib, ... }:\n" + KEPT

    fix_all = await request(client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc,
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
            context=types.CodeActionContext(diagnostics=[], only=["source.fixAll"]),
        )
    ))
    assert [a.kind for a in fix_all] == ["source.fixAll.cim-nix"]
    everything = await resolved(client, fix_all[0])
    assert apply(UNUSED, edits_of(everything, uri)) == "{ pkgs, ... }:\n" + KEPT


@pytest.mark.parametrize("name", list(CLIENTS))
async def test_formatting_and_range_formatting(client, tmp_path, name):
    spaced = "{\n  a   =   1;\n  b =   [1 2];\n}\n"
    _, uri, _ = await start(client, tmp_path, name, spaced)
    doc = types.TextDocumentIdentifier(uri=uri)
    options = types.FormattingOptions(tab_size=2, insert_spaces=True)

    whole = await request(client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=doc, options=options)
    ))
    assert apply(spaced, whole) == "{\n  a = 1;\n  b = [ 1 2 ];\n}\n"

    line_two = await request(client.text_document_range_formatting_async(
        types.DocumentRangeFormattingParams(
            text_document=doc,
            range=types.Range(start=types.Position(line=2, character=0), end=types.Position(line=2, character=14)),
            options=options,
        )
    ))
    # Only the asked line changes.
    assert apply(spaced, line_two) == "{\n  a   =   1;\n  b = [ 1 2 ];\n}\n"


@pytest.mark.parametrize("name", list(CLIENTS))
async def test_custom_requests_of_the_editor_commands(client, tmp_path, name):
    _, uri, _ = await start(client, tmp_path, name, UNUSED)
    tree = await request(client.protocol.send_request_async(
        "cim-nix/syntaxTree", {"textDocument": {"uri": uri}}
    ))
    assert tree.split("\n")[0] == f"NODE_ROOT@0..{len(UNUSED)}"
    status = await request(client.protocol.send_request_async("cim-nix/eventStatus", None))
    # No `nats.url` in these settings: events are off.
    assert status.enabled is False


# Every capability the server may advertise, and the tests (in this suite)
# that exercise it with each client's capabilities. `diagnosticProvider` is
# advertised only to clients that pull.
EXERCISED = {
    "positionEncoding": ["test_lsp_protocol.test_position_encoding_negotiation"],
    "textDocumentSync": ["test_lsp_protocol.test_pushed_diagnostics_appear_and_clear_with_versions"],
    "diagnosticProvider": [
        "test_client_coverage.test_diagnostics_quick_fix_and_fix_all",
        "test_lsp_protocol.test_pull_diagnostics_full_then_unchanged",
    ],
    "codeActionProvider": [
        "test_client_coverage.test_diagnostics_quick_fix_and_fix_all",
        "test_ide_features.test_structure_tokens_links_hints_and_rewrites",
    ],
    "documentFormattingProvider": ["test_client_coverage.test_formatting_and_range_formatting"],
    "documentRangeFormattingProvider": ["test_client_coverage.test_formatting_and_range_formatting"],
    "hoverProvider": ["test_ide_features.test_hover_completion_and_symbols"],
    "completionProvider": ["test_ide_features.test_hover_completion_and_symbols"],
    "definitionProvider": ["test_ide_features.test_navigation"],
    "referencesProvider": ["test_ide_features.test_navigation"],
    "documentHighlightProvider": ["test_ide_features.test_navigation"],
    "renameProvider": ["test_ide_features.test_navigation"],
    "documentSymbolProvider": ["test_ide_features.test_hover_completion_and_symbols"],
    "workspaceSymbolProvider": ["test_ide_features.test_hover_completion_and_symbols"],
    "foldingRangeProvider": ["test_ide_features.test_structure_tokens_links_hints_and_rewrites"],
    "selectionRangeProvider": ["test_ide_features.test_structure_tokens_links_hints_and_rewrites"],
    "semanticTokensProvider": ["test_ide_features.test_structure_tokens_links_hints_and_rewrites"],
    "documentLinkProvider": ["test_ide_features.test_structure_tokens_links_hints_and_rewrites"],
    "inlayHintProvider": ["test_ide_features.test_structure_tokens_links_hints_and_rewrites"],
    "experimental": ["test_client_coverage.test_custom_requests_of_the_editor_commands"],
    "executeCommandProvider": ["test_client_coverage.test_dotfile_migration_code_action_and_command"],
}

MODULES = {
    "test_client_coverage": __import__(__name__),
    "test_ide_features": test_ide_features,
    "test_lsp_protocol": test_lsp_protocol,
}


def test_every_listed_test_exists():
    for capability, tests in EXERCISED.items():
        for test in tests:
            module, function = test.split(".")
            assert callable(getattr(MODULES[module], function, None)), (capability, test)


@pytest.mark.parametrize("name", list(CLIENTS))
async def test_every_advertised_capability_is_exercised(client, tmp_path, name):
    result = await client.initialize_session(initialize_params(CLIENTS[name](), tmp_path))
    advertised = {
        key
        for key, value in client.protocol._converter.unstructure(result.capabilities).items()
        if value not in (None, False)
    }
    unlisted = advertised - set(EXERCISED)
    assert not unlisted, (
        f"the server advertises {sorted(unlisted)} to {name}: exercise each in a "
        "real-client test and list it in EXERCISED"
    )
    # The tests above run with every client; pull diagnostics only with those
    # that asked, and then the server must offer them.
    pulls = CLIENTS[name]().text_document.diagnostic is not None
    assert ("diagnosticProvider" in advertised) == pulls
    assert advertised == set(EXERCISED) - (set() if pulls else {"diagnosticProvider"})


GITCONFIG = "[user]\n\tname = Ada\n[alias]\n\tco = checkout\n[github]\n\ttoken = ghp_secret\n"
HOME_NIX = (
    "{ pkgs, ... }:\n"
    "{\n"
    "  home.stateVersion = \"25.11\";\n"
    "  home.file.\".gitconfig\".source = ./gitconfig;\n"
    "}\n"
)


@pytest.mark.parametrize("name", list(CLIENTS))
async def test_dotfile_migration_code_action_and_command(client, tmp_path, name):
    """The code action on a `home.file` entry, and `cim-nix.migrateDotfile`
    through `workspace/applyEdit`."""
    (tmp_path / "gitconfig").write_text(GITCONFIG)
    applied = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams):
        applied.append(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)

    caps, uri, _ = await start(client, tmp_path, name, HOME_NIX)
    assert list(caps.execute_command_provider.commands) == [
        "cim-nix.migrateDotfile",
        "cim-nix.dotfileMigrated",
    ]
    doc = types.TextDocumentIdentifier(uri=uri)
    at = types.Position(line=3, character=14)
    actions = await request(client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc,
            range=types.Range(start=at, end=at),
            context=types.CodeActionContext(diagnostics=[], only=["refactor.rewrite"]),
        )
    ))
    migrations = [a for a in actions if a.title.startswith("Migrate")]
    assert [a.title for a in migrations] == [
        "Migrate ./gitconfig into programs.git (Home Manager 25.11) (1 warning in comments)"
    ]
    action = migrations[0]
    assert apply(HOME_NIX, edits_of(action, uri)) == (
        "{ pkgs, ... }:\n"
        "{\n"
        "  home.stateVersion = \"25.11\";\n"
        "  # cim-nix: ./gitconfig:6: `github.token` looks like a secret: left out, because what Home Manager writes is readable by every user in /nix/store; keep it in ~/.config/git/secrets (not managed by Home Manager), which the migrated config includes: git config --file ~/.config/git/secrets github.token '...'\n"
        "  programs.git = {\n"
        "    enable = true;\n"
        "    settings = {\n"
        "      user.name = \"Ada\";\n"
        "      alias.co = \"checkout\";\n"
        "    };\n"
        "    includes = [{ path = \"~/.config/git/secrets\"; }];\n"
        "  };\n"
        "}\n"
    )
    # What the client runs after applying it: the event's trigger.
    assert action.command.command == "cim-nix.dotfileMigrated"
    done = await request(client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=action.command.command, arguments=action.command.arguments)
    ))
    assert done is None

    # The command, into a file that is not open: the edit comes back
    # through workspace/applyEdit.
    other = tmp_path / "other.nix"
    other.write_text("{ ... }:\n{\n  home.username = \"ada\";\n}\n")
    result = await request(client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="cim-nix.migrateDotfile",
            arguments=[{"dotfile": str(tmp_path / "gitconfig"), "target": other.as_uri()}],
        )
    ))
    assert result["applied"] is True
    assert result["option"] == "programs.git"
    assert [w["line"] for w in result["warnings"]] == [6]
    assert len(applied) == 1
    change = applied[0].document_changes[0]
    assert change.text_document.uri == other.as_uri()
    assert change.text_document.version is None
    text = other.read_text()
    migrated = apply(text, change.edits)
    assert migrated.startswith("{ ... }:\n{\n  home.username = \"ada\";\n  # cim-nix: ")
    assert "  programs.git = {\n    enable = true;\n" in migrated
    assert "ghp_secret" not in migrated

    # A dotfile that cannot be read is a clear error.
    with pytest.raises(Exception) as missing:
        await request(client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="cim-nix.migrateDotfile",
                arguments=[{"dotfile": str(tmp_path / "nope"), "target": other.as_uri()}],
            )
        ))
    assert "cannot read" in str(missing.value)
