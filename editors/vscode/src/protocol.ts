// What the extension says to the server, apart from standard LSP: the
// command line, the documents, the settings section and the custom
// requests. No `vscode` import, so the tests send exactly this.

import { RequestType, RequestType0 } from 'vscode-languageserver-protocol';

/** The configuration section the server reads through `workspace/configuration`. */
export const SETTINGS_SECTION = 'cim-nix';

/** The command line of the server: LSP over stdin/stdout. */
export function serverCommand(program: string): { command: string; args: string[] } {
  return { command: program, args: ['lsp'] };
}

/** Saved and unsaved Nix files; other schemes (git diffs, remote) are left alone. */
export const DOCUMENT_SELECTOR = [
  { scheme: 'file', language: 'nix' },
  { scheme: 'untitled', language: 'nix' },
];

export interface SyntaxTreeParams {
  textDocument: { uri: string };
}

/** The server's tree of an open document, as text; error -32803 when it could not parse it. */
export const SyntaxTreeRequest = new RequestType<SyntaxTreeParams, string, void>('cim-nix/syntaxTree');

export function syntaxTreeParams(uri: string): SyntaxTreeParams {
  return { textDocument: { uri } };
}

/** The counters of the domain-event delivery (doc/events.md), as JSON. */
export const EventStatusRequest = new RequestType0<unknown, void>('cim-nix/eventStatus');
