"""Protocol conformance of `cim-nix lsp`, checked by an independent client.

pytest-lsp (pygls + lsprotocol) structures every message the server sends with
the LSP specification's types; a malformed message fails the test that
provoked it. The assertions below pin the exact values the server reports.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcMethodNotFound
from pytest_lsp import LanguageClient, client_capabilities

TIMEOUT = 5.0
RULE_HREF = "https://github.com/cim-nix/cim-nix/blob/main/doc/rules/syntax-error.md"


# --- helpers -----------------------------------------------------------------


def initialize_params(capabilities, root, **kwargs) -> types.InitializeParams:
    return types.InitializeParams(
        capabilities=capabilities,
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        client_info=types.ClientInfo(name="pytest-lsp", version="1"),
        **kwargs,
    )


def push_only_capabilities() -> types.ClientCapabilities:
    """Minimal capabilities: versioned push diagnostics, no pull support."""
    return types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                version_support=True, code_description_support=True
            )
        )
    )


def open_doc(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="nix", version=version, text=text
            )
        )
    )


def edit(client: LanguageClient, uri: str, version: int, rng, text: str) -> None:
    """One incremental change; ``rng`` is (line, char, line, char)."""
    sl, sc, el, ec = rng
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=sl, character=sc),
                        end=types.Position(line=el, character=ec),
                    ),
                    text=text,
                )
            ],
        )
    )


def publishes(client: LanguageClient, uri: str) -> list[types.PublishDiagnosticsParams]:
    return [p for p in client.published if p.uri == uri]


async def wait_for_publish(
    client: LanguageClient, uri: str, version: int | None
) -> types.PublishDiagnosticsParams:
    """The first publishDiagnostics for ``uri`` with ``version``."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        for p in publishes(client, uri):
            if p.version == version:
                return p
        if client.error is not None or client._server.returncode is not None:
            break  # a message failed validation, or the server died
        await asyncio.sleep(0.01)
    seen = [(p.version, p.diagnostics) for p in publishes(client, uri)]
    raise AssertionError(f"no publishDiagnostics for {uri} v{version}; got {seen}")


async def syntax_tree(client: LanguageClient, uri: str) -> str:
    return await asyncio.wait_for(
        client.protocol.send_request_async(
            "cim-nix/syntaxTree", {"textDocument": {"uri": uri}}
        ),
        TIMEOUT,
    )


async def pull(
    client: LanguageClient, uri: str, previous_result_id: str | None = None
) -> types.DocumentDiagnosticReport:
    return await asyncio.wait_for(
        client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                identifier="cim-nix",
                previous_result_id=previous_result_id,
            )
        ),
        TIMEOUT,
    )


def rng(sl, sc, el, ec) -> types.Range:
    return types.Range(
        start=types.Position(line=sl, character=sc),
        end=types.Position(line=el, character=ec),
    )


def syntax_error(range_: types.Range, message: str) -> types.Diagnostic:
    return types.Diagnostic(
        range=range_,
        severity=types.DiagnosticSeverity.Error,
        code="syntax-error",
        code_description=types.CodeDescription(href=RULE_HREF),
        source="cim-nix",
        message=message,
    )


# --- initialize --------------------------------------------------------------


async def test_initialize_with_visual_studio_code_capabilities(client, tmp_path):
    caps = client_capabilities("visual-studio-code")
    # VS Code 1.65 declares neither pull diagnostics nor position encodings.
    assert caps.text_document.diagnostic is None
    assert caps.general.position_encodings is None

    result = await client.initialize_session(initialize_params(caps, tmp_path))

    assert result.server_info.name == "cim-nix"
    assert result.capabilities == types.ServerCapabilities(
        position_encoding=types.PositionEncodingKind.Utf16,
        text_document_sync=types.TextDocumentSyncOptions(
            open_close=True,
            change=types.TextDocumentSyncKind.Incremental,
            save=types.SaveOptions(include_text=False),
        ),
        code_action_provider=types.CodeActionOptions(
            code_action_kinds=(
                types.CodeActionKind.QuickFix,
                types.CodeActionKind.RefactorRewrite,
                types.CodeActionKind.RefactorInline,
                "source.fixAll.cim-nix",
            ),
            resolve_provider=True,
        ),
        document_formatting_provider=True,
        document_range_formatting_provider=True,
        hover_provider=True,
        completion_provider=types.CompletionOptions(
            trigger_characters=(".",), resolve_provider=True
        ),
        definition_provider=True,
        references_provider=True,
        document_highlight_provider=True,
        document_symbol_provider=True,
        workspace_symbol_provider=True,
        rename_provider=types.RenameOptions(prepare_provider=True),
        document_link_provider=types.DocumentLinkOptions(resolve_provider=False),
        folding_range_provider=True,
        selection_range_provider=True,
        inlay_hint_provider=True,
        semantic_tokens_provider=types.SemanticTokensOptions(
            legend=types.SemanticTokensLegend(
                token_types=(
                    "comment", "string", "number", "keyword", "operator",
                    "variable", "parameter", "property", "function",
                ),
                token_modifiers=("declaration", "defaultLibrary", "deprecated"),
            ),
            range=True,
            full=types.SemanticTokensFullDelta(delta=True),
        ),
        execute_command_provider=types.ExecuteCommandOptions(
            commands=("cim-nix.migrateDotfile", "cim-nix.dotfileMigrated"),
        ),
        experimental={"syntaxTree": True},
    )

    # The client answers workspace/configuration with null for "cim-nix"
    # (nothing configured): that must not be reported as a bad setting.
    uri = (tmp_path / "ok.nix").as_uri()
    open_doc(client, uri, 1, "{ a = 1; }")
    published = await wait_for_publish(client, uri, 1)
    assert list(published.diagnostics) == []
    assert client.messages == []

    # VS Code declares dynamic registration for both of these; the server
    # registers exactly them (asynchronously, after `initialized`).
    deadline = time.monotonic() + TIMEOUT
    while len(client.registrations) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert [(r.id, r.method) for r in client.registrations] == [
        ("cim-nix-configuration", "workspace/didChangeConfiguration"),
        ("cim-nix-project-files", "workspace/didChangeWatchedFiles"),
    ]
    assert client.registrations[0].register_options is None
    # registerOptions is LSPAny on the wire: check it against its real type.
    watched = client.protocol._converter.structure(
        client.registrations[1].register_options,
        types.DidChangeWatchedFilesRegistrationOptions,
    )
    assert list(watched.watchers) == [
        types.FileSystemWatcher(glob_pattern="**/cim-nix.toml"),
        types.FileSystemWatcher(glob_pattern="**/flake.lock"),
        types.FileSystemWatcher(glob_pattern="**/*.nix"),
    ]


async def test_initialize_declares_pull_diagnostics_only_for_clients_that_pull(
    client, tmp_path
):
    caps = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            diagnostic=types.DiagnosticClientCapabilities(dynamic_registration=False)
        )
    )
    result = await client.initialize_session(initialize_params(caps, tmp_path))
    assert result.capabilities.diagnostic_provider == types.DiagnosticOptions(
        identifier="cim-nix",
        inter_file_dependencies=False,
        workspace_diagnostics=False,
    )
    # No dynamic registration was declared, so none may be requested.
    uri = (tmp_path / "any.nix").as_uri()
    open_doc(client, uri, 1, "a")
    assert await syntax_tree(client, uri) != ""
    assert client.registrations == []


# --- push diagnostics ------------------------------------------------------------


async def test_pushed_diagnostics_appear_and_clear_with_versions(client, tmp_path):
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document.diagnostic is None  # push only
    await client.initialize_session(initialize_params(caps, tmp_path))
    uri = (tmp_path / "push.nix").as_uri()

    open_doc(client, uri, 1, "{ a = ; }")
    v1 = await wait_for_publish(client, uri, 1)
    assert list(v1.diagnostics) == [
        syntax_error(rng(0, 6, 0, 7), "unexpected `;`, expected an expression")
    ]

    # Type the missing value: the error goes away, for version 2.
    edit(client, uri, 2, (0, 6, 0, 6), "1")
    v2 = await wait_for_publish(client, uri, 2)
    assert list(v2.diagnostics) == []

    # Delete the closing brace: a new error, for version 3. The text is now
    # `{ a = 1; ` and the server places an end-of-file error right after the
    # last token (`;`), not after the trailing space.
    edit(client, uri, 3, (0, 9, 0, 10), "")
    v3 = await wait_for_publish(client, uri, 3)
    assert list(v3.diagnostics) == [
        syntax_error(rng(0, 8, 0, 8), "unexpected end of file, expected `}`")
    ]

    # Versions only move forward and nothing was published for another text.
    versions = [p.version for p in publishes(client, uri)]
    assert versions == sorted(versions), versions
    assert set(versions) <= {1, 2, 3}, versions
    assert client.messages == []


# --- pull diagnostics ------------------------------------------------------------


async def test_pull_diagnostics_full_then_unchanged(client, tmp_path):
    caps = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            diagnostic=types.DiagnosticClientCapabilities(dynamic_registration=False),
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                version_support=True
            ),
        )
    )
    result = await client.initialize_session(initialize_params(caps, tmp_path))
    assert result.capabilities.diagnostic_provider is not None
    uri = (tmp_path / "pull.nix").as_uri()

    open_doc(client, uri, 1, "let a = 1 in a")
    full = await pull(client, uri)
    assert isinstance(full, types.RelatedFullDocumentDiagnosticReport), full
    assert full.kind == "full"
    assert isinstance(full.result_id, str) and full.result_id != ""
    assert list(full.items) == [
        syntax_error(rng(0, 10, 0, 12), "unexpected `in`, expected `;`")
    ]

    same = await pull(client, uri, previous_result_id=full.result_id)
    assert same == types.RelatedUnchangedDocumentDiagnosticReport(
        result_id=full.result_id
    )

    # Fix the error: the old resultId no longer matches, a new full report.
    edit(client, uri, 2, (0, 9, 0, 9), ";")
    fixed = await pull(client, uri, previous_result_id=full.result_id)
    assert isinstance(fixed, types.RelatedFullDocumentDiagnosticReport), fixed
    assert list(fixed.items) == []
    assert fixed.result_id not in (None, "", full.result_id)

    # Break it again: only the pull reports it.
    edit(client, uri, 3, (0, 0, 0, 0), "(")
    broken = await pull(client, uri)
    assert isinstance(broken, types.RelatedFullDocumentDiagnosticReport), broken
    assert [d.message for d in broken.items] == ["unexpected end of file, expected `)`"]

    # Once the client pulls, the server stops pushing. If it pushed version 1
    # before the first pull arrived, it clears that push exactly once (the
    # clearing publish carries no version); versions 2 and 3 are never pushed.
    await asyncio.sleep(0.3)
    seq = [(p.version, len(p.diagnostics)) for p in publishes(client, uri)]
    assert seq in ([], [(1, 1), (None, 0)]), seq
    assert client.messages == []


# --- position encodings ----------------------------------------------------------

# `é` is 2 UTF-8 bytes / 1 UTF-16 unit / 1 code point; `🦀` is 4 / 2 / 1.
ENCODING_TEXT = '"é🦀" )'


@pytest.mark.parametrize(
    ("offered", "chosen", "column"),
    [
        (None, types.PositionEncodingKind.Utf16, 6),
        (["utf-16"], types.PositionEncodingKind.Utf16, 6),
        (["utf-8", "utf-16"], types.PositionEncodingKind.Utf8, 9),
        (["utf-32", "utf-8"], types.PositionEncodingKind.Utf8, 9),
        (["utf-32", "utf-16"], types.PositionEncodingKind.Utf32, 5),
    ],
)
async def test_position_encoding_negotiation(client, tmp_path, offered, chosen, column):
    caps = push_only_capabilities()
    if offered is not None:
        caps.general = types.GeneralClientCapabilities(position_encodings=offered)
    result = await client.initialize_session(initialize_params(caps, tmp_path))
    assert result.capabilities.position_encoding == chosen

    uri = (tmp_path / "enc.nix").as_uri()
    open_doc(client, uri, 1, ENCODING_TEXT)
    v1 = await wait_for_publish(client, uri, 1)
    assert list(v1.diagnostics) == [
        syntax_error(
            rng(0, column, 0, column + 1),
            "unexpected `)` after the end of the expression; "
            "a Nix file holds exactly one expression",
        )
    ]

    # An edit in the negotiated encoding lands on the `)`: delete it.
    edit(client, uri, 2, (0, column, 0, column + 1), "")
    v2 = await wait_for_publish(client, uri, 2)
    assert list(v2.diagnostics) == []
    assert await syntax_tree(client, uri) == (
        "NODE_ROOT@0..9\n"
        "  NODE_STRING@0..8\n"
        '    TOKEN_STRING_START@0..1 "\\""\n'
        '    TOKEN_STRING_CONTENT@1..7 "é🦀"\n'
        '    TOKEN_STRING_END@7..8 "\\""\n'
        '  TOKEN_WHITESPACE@8..9 " "\n'
    )


# --- settings ------------------------------------------------------------------


async def test_settings_bad_values_are_reported_and_configuration_applies(
    client, tmp_path
):
    # The editor's `cim-nix` section (answered by pytest-lsp's
    # workspace/configuration handler) makes syntax errors hints.
    client.set_configuration({"rules": {"syntax-error": "hint"}}, section="cim-nix")
    caps = push_only_capabilities()
    caps.workspace = types.WorkspaceClientCapabilities(configuration=True)
    await client.initialize_session(
        initialize_params(
            caps,
            tmp_path,
            initialization_options={
                "rules": {"syntax-error": "warning", "not-a-rule": "off"},
                "diagnostics": {"enable": "yes"},
            },
        )
    )
    uri = (tmp_path / "settings.nix").as_uri()
    open_doc(client, uri, 1, "{ a = ; }")

    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        latest = publishes(client, uri)[-1:]
        if latest and [d.severity for d in latest[0].diagnostics] == [
            types.DiagnosticSeverity.Hint
        ]:
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError(f"never became a hint: {publishes(client, uri)}")

    assert len(client.messages) == 1, client.messages
    shown = client.messages[0]
    assert shown.type == types.MessageType.Warning
    assert shown.message == (
        "cim-nix: ignored invalid settings in initializationOptions: "
        '`diagnostics.enable`: expected true or false, got "yes"; '
        "`rules.not-a-rule`: no rule has this name; see `cim-nix rules`"
    )
    # Before the configuration answer lands, the valid part of
    # initializationOptions (warning) may apply; never the default (error).
    severities = {d.severity for p in publishes(client, uri) for d in p.diagnostics}
    assert severities <= {types.DiagnosticSeverity.Warning, types.DiagnosticSeverity.Hint}


# --- custom request ------------------------------------------------------------


async def test_syntax_tree_custom_request(client, tmp_path):
    result = await client.initialize_session(
        initialize_params(push_only_capabilities(), tmp_path)
    )
    assert result.capabilities.experimental == {"syntaxTree": True}
    uri = (tmp_path / "tree.nix").as_uri()
    open_doc(client, uri, 1, "a")
    assert await syntax_tree(client, uri) == (
        'NODE_ROOT@0..1\n  NODE_IDENT@0..1\n    TOKEN_IDENT@0..1 "a"\n'
    )

    # A document that was never opened is an InvalidParams error, not a crash.
    never = (tmp_path / "never-opened.nix").as_uri()
    with pytest.raises(JsonRpcException) as err:
        await syntax_tree(client, never)
    assert err.value.code == -32602
    assert err.value.message == (
        f"document {never} is not open; send textDocument/didOpen first"
    )


# --- errors and lifecycle ----------------------------------------------------------


async def test_unknown_request_is_method_not_found(client, tmp_path):
    await client.initialize_session(initialize_params(push_only_capabilities(), tmp_path))

    with pytest.raises(JsonRpcMethodNotFound) as err:
        await asyncio.wait_for(
            client.protocol.send_request_async("cim-nix/noSuchRequest", {}), TIMEOUT
        )
    assert err.value.code == -32601

    # Unknown notifications are ignored and the server keeps answering.
    client.protocol.notify("$/noSuchNotification", {})
    client.protocol.notify("custom/whatever", [1, 2])
    uri = (tmp_path / "alive.nix").as_uri()
    open_doc(client, uri, 1, "{ a = 1; }")
    assert list((await wait_for_publish(client, uri, 1)).diagnostics) == []


async def test_unknown_dollar_request_is_method_not_found(client, tmp_path):
    await client.initialize_session(initialize_params(push_only_capabilities(), tmp_path))
    with pytest.raises(JsonRpcMethodNotFound) as err:
        await asyncio.wait_for(
            client.protocol.send_request_async("$/noSuchRequest", {}), 2.0
        )
    assert err.value.code == -32601


async def test_clean_shutdown_exits_zero(client, tmp_path):
    await client.initialize_session(initialize_params(push_only_capabilities(), tmp_path))
    uri = (tmp_path / "bye.nix").as_uri()
    open_doc(client, uri, 1, "{")
    await wait_for_publish(client, uri, 1)

    assert await asyncio.wait_for(client.shutdown_async(None), TIMEOUT) is None
    client.shut_down = True

    # After shutdown, requests fail with InvalidRequest.
    with pytest.raises(JsonRpcException) as err:
        await asyncio.wait_for(syntax_tree(client, uri), TIMEOUT)
    assert err.value.code == -32600

    client.exit(None)
    assert await asyncio.wait_for(client._server.wait(), TIMEOUT) == 0


async def test_exit_without_shutdown_exits_one(client, tmp_path):
    await client.initialize_session(initialize_params(push_only_capabilities(), tmp_path))
    client.shut_down = True
    client.exit(None)
    assert await asyncio.wait_for(client._server.wait(), TIMEOUT) == 1
