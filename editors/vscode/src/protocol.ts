// What the extension says to the server, apart from standard LSP: the
// command line, the documents, the settings section and the custom
// requests. No `vscode` import, so the tests send exactly this.

import { ExecuteCommandParams, RequestType, RequestType0 } from 'vscode-languageserver-protocol';

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

/** The server's command that inserts a dotfile's Home Manager options into a file (doc/home-manager.md). */
export const MIGRATE_DOTFILE_COMMAND = 'cim-nix.migrateDotfile';

/** What the server answers when the edit was applied. */
export interface MigrateDotfileResult {
  applied: boolean;
  option: string;
  release: string;
  kept: string[];
  warnings: { line: number | null; message: string }[];
}

/** `workspace/executeCommand` of the migration: `dotfile` a path, `target` the URI of the Home Manager file. */
export function migrateDotfileParams(dotfile: string, target: string): ExecuteCommandParams {
  return { command: MIGRATE_DOTFILE_COMMAND, arguments: [{ dotfile, target }] };
}
