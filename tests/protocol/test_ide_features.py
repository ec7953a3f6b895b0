"""Every editor feature the server advertises, through a protocol-checking
client, with the client capabilities of VS Code, Neovim (0.7 and 0.10) and
Helix. pytest-lsp structures each answer with the LSP specification's types
(and checks completion items and links against the client's capabilities);
the assertions pin what each answer says.
"""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient, client_capabilities

from test_lsp_protocol import TIMEOUT, initialize_params, open_doc, wait_for_publish

LIB = "{\n  # Twice x.\n  double = x: x * 2;\n}\n"
MAIN = (
    "{ lib, ... }:\n"
    "let\n"
    "  helpers = import ./lib.nix;\n"
    "  name = \"demo\";\n"
    "in\n"
    "{\n"
    "  label = helpers.double 2;\n"
    "  title = lib.toUpper name;\n"
    "  items = map (x: x) [ ];\n"
    "}\n"
)


def helix_capabilities() -> types.ClientCapabilities:
    """What Helix (24.x) declares, written from its client: UTF-8 first,
    snippets, markdown, hierarchical symbols, prepareRename, inlay hints, no
    dynamic registration and no semantic tokens."""
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(
            position_encodings=["utf-8", "utf-32", "utf-16"]
        ),
        window=types.WindowClientCapabilities(work_done_progress=True),
        workspace=types.WorkspaceClientCapabilities(
            configuration=True,
            workspace_folders=True,
            apply_edit=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
            symbol=types.WorkspaceSymbolClientCapabilities(dynamic_registration=False),
        ),
        text_document=types.TextDocumentClientCapabilities(
            completion=types.CompletionClientCapabilities(
                completion_item=types.ClientCompletionItemOptions(
                    snippet_support=True,
                    documentation_format=[types.MarkupKind.Markdown],
                    resolve_support=types.ClientCompletionItemResolveOptions(
                        properties=["documentation", "detail", "additionalTextEdits"]
                    ),
                    insert_replace_support=True,
                    deprecated_support=True,
                ),
            ),
            hover=types.HoverClientCapabilities(
                content_format=[types.MarkupKind.Markdown]
            ),
            rename=types.RenameClientCapabilities(
                dynamic_registration=False, prepare_support=True
            ),
            document_symbol=types.DocumentSymbolClientCapabilities(
                hierarchical_document_symbol_support=True
            ),
            code_action=types.CodeActionClientCapabilities(
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    code_action_kind=types.ClientCodeActionKindOptions(
                        value_set=[
                            "",
                            "quickfix",
                            "refactor",
                            "refactor.inline",
                            "refactor.rewrite",
                            "source",
                        ]
                    )
                ),
                is_preferred_support=True,
            ),
            inlay_hint=types.InlayHintClientCapabilities(dynamic_registration=False),
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                version_support=True
            ),
        ),
    )


CLIENTS = {
    "vscode": lambda: client_capabilities("visual-studio-code"),
    "neovim-0.7": lambda: client_capabilities("neovim@v0.7.0"),
    "neovim-0.10": lambda: client_capabilities("neovim@v0.10.0"),
    "helix": helix_capabilities,
}


def position_of(text: str, needle: str, skip: int = 0) -> types.Position:
    """The position of ``needle`` (plus ``skip`` characters) in ASCII text."""
    at = text.index(needle) + skip
    line = text.count("\n", 0, at)
    return types.Position(line=line, character=at - (text.rfind("\n", 0, at) + 1))


async def request(coro):
    return await asyncio.wait_for(coro, TIMEOUT)


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "lib.nix").write_text(LIB)
    (tmp_path / "main.nix").write_text(MAIN)
    return tmp_path


async def start(client: LanguageClient, workspace, name: str):
    caps = CLIENTS[name]()
    result = await client.initialize_session(initialize_params(caps, workspace))
    uri = (workspace / "main.nix").as_uri()
    open_doc(client, uri, 1, MAIN)
    await wait_for_publish(client, uri, 1)
    return result.capabilities, uri


@pytest.mark.parametrize("name", list(CLIENTS))
async def test_capabilities_of_every_feature(client, workspace, name):
    caps, _ = await start(client, workspace, name)
    assert caps.definition_provider is True
    assert caps.references_provider is True
    assert caps.document_highlight_provider is True
    assert caps.rename_provider == types.RenameOptions(prepare_provider=True)
    assert caps.document_symbol_provider is True
    assert caps.workspace_symbol_provider is True
    assert caps.completion_provider == types.CompletionOptions(
        trigger_characters=(".",), resolve_provider=True
    )
    assert caps.folding_range_provider is True
    assert caps.selection_range_provider is True
    assert caps.inlay_hint_provider is True
    assert caps.document_link_provider == types.DocumentLinkOptions(resolve_provider=False)
    tokens = caps.semantic_tokens_provider
    assert tokens.full == types.SemanticTokensFullDelta(delta=True)
    assert tokens.range is True
    assert list(tokens.legend.token_types) == [
        "comment", "string", "number", "keyword", "operator",
        "variable", "parameter", "property", "function",
    ]
    assert list(tokens.legend.token_modifiers) == [
        "declaration", "defaultLibrary", "deprecated",
    ]


@pytest.mark.parametrize("name", list(CLIENTS))
async def test_navigation(client, workspace, name):
    _, uri = await start(client, workspace, name)
    lib_uri = (workspace / "lib.nix").as_uri()
    doc = types.TextDocumentIdentifier(uri=uri)

    found = await request(client.text_document_definition_async(
        types.DefinitionParams(text_document=doc, position=position_of(MAIN, "double", 1))
    ))
    # Neovim 0.10 and VS Code take links; every answer names lib.nix line 2.
    target = found[0]
    if isinstance(target, types.LocationLink):
        assert target.target_uri == lib_uri
        assert target.target_selection_range.start == types.Position(line=2, character=2)
    else:
        assert target.uri == lib_uri
        assert target.range.start == types.Position(line=2, character=2)

    refs = await request(client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc,
            position=position_of(MAIN, "name ="),
            context=types.ReferenceContext(include_declaration=True),
        )
    ))
    assert sorted((r.range.start.line, r.range.start.character) for r in refs) == [(3, 2), (7, 22)]

    highlights = await request(client.text_document_document_highlight_async(
        types.DocumentHighlightParams(text_document=doc, position=position_of(MAIN, "helpers.double"))
    ))
    assert [(h.range.start.line, h.kind) for h in highlights] == [
        (2, types.DocumentHighlightKind.Write),
        (6, types.DocumentHighlightKind.Read),
    ]

    prepared = await request(client.text_document_prepare_rename_async(
        types.PrepareRenameParams(text_document=doc, position=position_of(MAIN, "name ="))
    ))
    assert prepared.placeholder == "name"
    renamed = await request(client.text_document_rename_async(
        types.RenameParams(text_document=doc, position=position_of(MAIN, "name ="), new_name="title2")
    ))
    edits = (
        renamed.document_changes[0].edits
        if renamed.document_changes
        else renamed.changes[uri]
    )
    assert sorted(e.range.start.line for e in edits) == [3, 7]
    assert {e.new_text for e in edits} == {"title2"}

    with pytest.raises(JsonRpcException) as refused:
        await request(client.text_document_prepare_rename_async(
            types.PrepareRenameParams(text_document=doc, position=position_of(MAIN, "map"))
        ))
    assert "builtin" in refused.value.message


@pytest.mark.parametrize("name", list(CLIENTS))
async def test_hover_completion_and_symbols(client, workspace, name):
    _, uri = await start(client, workspace, name)
    doc = types.TextDocumentIdentifier(uri=uri)

    hover = await request(client.text_document_hover_async(
        types.HoverParams(text_document=doc, position=position_of(MAIN, "map"))
    ))
    assert hover.contents.value.startswith("```nix\nmap f list\n```")

    completion = await request(client.text_document_completion_async(
        types.CompletionParams(text_document=doc, position=position_of(MAIN, "toUpper", 4))
    ))
    labels = [i.label for i in completion.items]
    assert "toUpper" in labels, labels
    item = next(i for i in completion.items if i.label == "toUpper")
    resolved = await request(client.completion_item_resolve_async(item))
    assert "toUpper" in resolved.documentation.value

    symbols = await request(client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc)
    ))
    assert [s.name for s in symbols] == ["helpers", "name", "label", "title", "items"]

    found = await request(client.workspace_symbol_async(types.WorkspaceSymbolParams(query="name")))
    assert any(s.name == "name" and s.location.uri == uri for s in found)


@pytest.mark.parametrize("name", list(CLIENTS))
async def test_structure_tokens_links_hints_and_rewrites(client, workspace, name):
    _, uri = await start(client, workspace, name)
    doc = types.TextDocumentIdentifier(uri=uri)

    folds = await request(client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=doc)
    ))
    assert [(f.start_line, f.end_line) for f in folds] == [(1, 3), (5, 8)]

    selection = await request(client.text_document_selection_range_async(
        types.SelectionRangeParams(text_document=doc, positions=[position_of(MAIN, "demo")])
    ))
    assert selection[0].range.start == position_of(MAIN, "demo")
    assert selection[0].parent is not None

    full = await request(client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=doc)
    ))
    assert len(full.data) % 5 == 0 and len(full.data) > 0
    # The first token is `lib`, a parameter being declared.
    assert list(full.data[:5]) == [0, 2, 3, 6, 1]
    delta = await request(client.text_document_semantic_tokens_full_delta_async(
        types.SemanticTokensDeltaParams(text_document=doc, previous_result_id=full.result_id)
    ))
    assert list(delta.edits) == []
    in_range = await request(client.text_document_semantic_tokens_range_async(
        types.SemanticTokensRangeParams(
            text_document=doc,
            range=types.Range(start=types.Position(line=8, character=0), end=types.Position(line=9, character=0)),
        )
    ))
    assert len(in_range.data) // 5 == 5  # items, =, map, x, x

    links = await request(client.text_document_document_link_async(
        types.DocumentLinkParams(text_document=doc)
    ))
    assert [link.target for link in links] == [(workspace / "lib.nix").as_uri()]

    hints = await request(client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=doc,
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=10, character=0)),
        )
    ))
    assert list(hints) == []  # no binding is long enough

    actions = await request(client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc,
            range=types.Range(start=position_of(MAIN, "demo"), end=position_of(MAIN, "demo")),
            context=types.CodeActionContext(diagnostics=[], only=["refactor"]),
        )
    ))
    titles = [a.title for a in actions]
    assert "Write as an ''indented string''" in titles, titles
    action = next(a for a in actions if a.title == "Write as an ''indented string''")
    if action.edit is None:
        # Sent to be resolved (VS Code, Neovim, Helix declare it).
        action = await request(client.code_action_resolve_async(action))
    change = action.edit.document_changes[0] if action.edit.document_changes else None
    edits = change.edits if change else action.edit.changes[uri]
    assert [e.new_text for e in edits] == ["''demo''"]
