"""Fixtures for the LSP protocol-conformance suite.

Every test gets its own server process (``$CIM_NIX_BIN lsp``, default
``target/debug/cim-nix`` under the repository root) driven by a pytest-lsp
client. pytest-lsp/pygls structure every message the server sends with the
lsprotocol types, so a message that does not match the LSP specification fails
the test that provoked it.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import sys
from typing import Union

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def server_binary() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("CIM_NIX_BIN", "target/debug/cim-nix"))
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


SERVER_BIN = server_binary()


def pytest_configure(config):
    if not (SERVER_BIN.is_file() and os.access(SERVER_BIN, os.X_OK)):
        raise pytest.UsageError(
            f"cim-nix binary not found or not executable: {SERVER_BIN} "
            "(build it with `cargo build`, or point CIM_NIX_BIN at it)"
        )


def _record_publish(client: LanguageClient, params: types.PublishDiagnosticsParams):
    """Keep every publishDiagnostics notification, in arrival order, with its
    version (pytest-lsp's default handler only keeps the latest diagnostics)."""
    client.published.append(params)
    client.diagnostics[params.uri] = params.diagnostics


def _register_capability(client: LanguageClient, params: types.RegistrationParams):
    """Accept dynamic registrations (as VS Code does) and keep them for checks."""
    client.registrations.extend(params.registrations)


def converter():
    """pytest-lsp's converter, except that a code action or command is told
    apart as VS Code's client does: a `Command` has a string `command`. (The
    default reads a `CodeAction` whose `command` is a Command object as a
    Command.)"""
    converter = pytest_lsp.client.default_converter()

    def code_action_or_command(obj, _):
        if isinstance(obj, dict) and isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(
        Union[types.Command, types.CodeAction], code_action_or_command
    )
    return converter


def make_client() -> LanguageClient:
    client = LanguageClient(converter_factory=converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _record_publish
    features[types.CLIENT_REGISTER_CAPABILITY] = _register_capability
    register_lsp_features(client, features)
    client.published = []
    client.registrations = []
    return client


# The server logs to stderr (filter: CIM_NIX_LOG); pytest-lsp forwards it and
# pytest shows it only for failing tests.
CONFIG = ClientServerConfig(
    server_command=[str(SERVER_BIN), "lsp"],
    client_factory=make_client,
)


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient):
    """A started but *uninitialized* server: each test sends its own
    ``initialize`` so it can choose the client capabilities. Tests that shut the
    server down themselves set ``lsp_client.shut_down = True``."""
    lsp_client.shut_down = False
    yield
    server = lsp_client._server
    if server is None or server.returncode is not None:
        return
    if (
        lsp_client.capabilities is not None
        and lsp_client.error is None
        and not lsp_client.shut_down
    ):
        try:
            await asyncio.wait_for(lsp_client.shutdown_session(), timeout=10)
        except Exception as exc:  # noqa: BLE001 - the process must still go
            print(f"shutdown during teardown failed: {exc!r}", file=sys.stderr)
    if server.returncode is None:
        try:
            await asyncio.wait_for(server.wait(), timeout=2)
        except asyncio.TimeoutError:
            server.kill()
            await server.wait()
