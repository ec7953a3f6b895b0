// Plays VS Code's part against the real cim-nix binary: the same protocol
// library vscode-languageclient is built on, the client capabilities VS Code
// sends (vscode-client-capabilities.json, as vscode-languageclient 9 fills
// them in VS Code 1.9x), and the answers VS Code gives to the server's
// requests. The command line, document selector and settings section come
// from the extension's own modules.

import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ApplyWorkspaceEditRequest,
  ClientCapabilities,
  ConfigurationRequest,
  createProtocolConnection,
  DidChangeConfigurationNotification,
  DidOpenTextDocumentNotification,
  DocumentDiagnosticReport,
  DocumentDiagnosticRequest,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  InitializeResult,
  LogMessageNotification,
  Position,
  ProtocolConnection,
  PublishDiagnosticsNotification,
  RegistrationRequest,
  ResponseError,
  ShowMessageNotification,
  ShowMessageParams,
  ShowMessageRequest,
  ShowDocumentRequest,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  TextEdit,
  UnregistrationRequest,
  WorkDoneProgressCreateRequest,
  WorkspaceEdit,
  WorkspaceFoldersRequest,
} from 'vscode-languageserver-protocol/node';
import { DOCUMENT_SELECTOR, SETTINGS_SECTION, serverCommand } from '../protocol';

/** editors/vscode, from out/test. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

export const TIMEOUT_MS = 10_000;

/** The binary under test: $CIM_NIX_BIN, else the repository's debug build. */
export function serverBinary(): string {
  const fromEnv = process.env.CIM_NIX_BIN;
  return fromEnv ? path.resolve(fromEnv) : path.resolve(PACKAGE_ROOT, '..', '..', 'target', 'debug', 'cim-nix');
}

export function vscodeCapabilities(): ClientCapabilities {
  const file = path.join(PACKAGE_ROOT, 'src', 'test', 'vscode-client-capabilities.json');
  return JSON.parse(readFileSync(file, 'utf8')) as ClientCapabilities;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Settings = { [key: string]: Json };

interface PropertySchema {
  type?: string | string[];
  default?: Json;
}

export function packageJson(): { contributes: { configuration: { properties: Record<string, PropertySchema> } } } {
  return JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8'));
}

/**
 * The `cim-nix` section as VS Code hands it to the client (and the client
 * to the server) when the user set nothing: every contributed `cim-nix.a.b`
 * nested as `{ a: { b: default } }`, the extension's own `server` and `trace`
 * included. A property without a default gets its type's empty value, as in
 * VS Code.
 */
export function defaultSettings(): Settings {
  const root: Settings = {};
  const prefix = `${SETTINGS_SECTION}.`;
  for (const [key, schema] of Object.entries(packageJson().contributes.configuration.properties)) {
    if (!key.startsWith(prefix)) {
      continue;
    }
    const parts = key.slice(prefix.length).split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) {
        node[part] = {};
      }
      node = node[part] as Settings;
    }
    node[parts[parts.length - 1]] = schema.default !== undefined ? schema.default : emptyValue(schema.type);
  }
  return root;
}

function emptyValue(type: string | string[] | undefined): Json {
  switch (Array.isArray(type) ? type[0] : type) {
    case 'boolean':
      return false;
    case 'number':
    case 'integer':
      return 0;
    case 'string':
      return '';
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return null;
  }
}

export function fileUri(file: string): string {
  return pathToFileURL(file).href;
}

export function withTimeout<T>(promise: Promise<T>, what: string, ms = TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One running server and what it has said. */
export class Session {
  readonly messages: ShowMessageParams[] = [];
  /** Requests from the server that these tests never expect (documents to show). */
  readonly unexpected: string[] = [];
  /** The edits the server asked the editor to apply, which VS Code applies. */
  readonly appliedEdits: WorkspaceEdit[] = [];
  configurationAnswered = 0;
  stderr = '';
  initializeResult!: InitializeResult;
  private exited: Promise<number | null>;

  constructor(
    readonly process: ChildProcess,
    readonly connection: ProtocolConnection,
    public settings: Settings,
  ) {
    this.exited = new Promise((resolve) => process.once('exit', (code) => resolve(code)));
  }

  /** Opens a document as VS Code does for a `.nix` file in an editor tab. */
  async open(uri: string, text: string, version = 1): Promise<void> {
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: DOCUMENT_SELECTOR[0].language, version, text },
    });
  }

  /**
   * The document's diagnostics, pulled as vscode-languageclient does for
   * a visible document (the fixture says the client can pull). A
   * cancelled pull is asked again, as the client does on `retriggerRequest`.
   */
  async pullDiagnostics(uri: string): Promise<DocumentDiagnosticReport> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await withTimeout(
          this.connection.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri } }),
          'textDocument/diagnostic',
        );
      } catch (e) {
        if (e instanceof ResponseError && e.code === -32802 && attempt < 20) {
          await delay(100);
          continue;
        }
        throw e;
      }
    }
  }

  /** Asks `ready` every 100 ms until it says yes; fails after TIMEOUT_MS. */
  async waitFor(ready: () => boolean | Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + TIMEOUT_MS;
    while (!(await ready())) {
      if (Date.now() > deadline) {
        throw new Error(`waited ${TIMEOUT_MS} ms for ${what}; server stderr:\n${this.stderr}`);
      }
      await delay(100);
    }
  }

  /** Polite end: shutdown, exit, and the process is gone. */
  async shutdown(): Promise<number | null> {
    await withTimeout(this.connection.sendRequest(ShutdownRequest.type), 'shutdown');
    await this.connection.sendNotification(ExitNotification.type);
    const code = await withTimeout(this.exited, 'exit after shutdown');
    this.connection.dispose();
    return code;
  }

  /** Teardown: whatever state it is in, the process must not outlive the test. */
  kill(): void {
    this.connection.dispose();
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill('SIGKILL');
    }
  }
}

/**
 * Starts the server as the extension does (`<binary> lsp` over stdio) and
 * initializes it as VS Code does for a workspace folder `root`.
 */
export async function startSession(root: string, settings: Settings = defaultSettings()): Promise<Session> {
  const { command, args } = serverCommand(serverBinary());
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  // A missing binary fails here, with the path, rather than as a timeout.
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) => reject(new Error(`cannot run ${command}: ${e.message}`)));
  });
  const connection = createProtocolConnection(
    new StreamMessageReader(child.stdout!),
    new StreamMessageWriter(child.stdin!),
  );
  const session = new Session(child, connection, settings);
  child.stderr!.on('data', (chunk: Buffer) => {
    session.stderr += chunk.toString();
  });

  // VS Code answers with the section the server asks for.
  connection.onRequest(ConfigurationRequest.type, (params) => {
    session.configurationAnswered++;
    return params.items.map((item) => (item.section === SETTINGS_SECTION ? session.settings : null));
  });
  connection.onRequest(RegistrationRequest.type, () => null);
  connection.onRequest(WorkDoneProgressCreateRequest.type, () => null);
  // Refresh requests VS Code answers once it has asked again.
  for (const method of [
    'workspace/semanticTokens/refresh',
    'workspace/inlayHint/refresh',
    'workspace/codeLens/refresh',
    'workspace/diagnostic/refresh',
    'workspace/foldingRange/refresh',
  ]) {
    connection.onRequest(method, () => null);
  }
  connection.onRequest(UnregistrationRequest.type, () => null);
  connection.onRequest(WorkspaceFoldersRequest.type, () => [{ uri: fileUri(root), name: path.basename(root) }]);
  // A message with buttons counts as a message; the user dismisses it.
  connection.onRequest(ShowMessageRequest.type, (m) => {
    session.messages.push(m);
    return null;
  });
  // Nothing these tests do should make the server edit files or open
  // documents by itself: recorded, and refused.
  connection.onRequest(ApplyWorkspaceEditRequest.type, (params) => {
    session.appliedEdits.push(params.edit);
    return { applied: true };
  });
  connection.onRequest(ShowDocumentRequest.type, () => {
    session.unexpected.push(ShowDocumentRequest.method);
    return { success: false };
  });
  connection.onNotification(ShowMessageNotification.type, (m) => session.messages.push(m));
  // Pushed diagnostics and log messages are not looked at: VS Code's client
  // pulls diagnostics, and logs only go to the output channel.
  connection.onNotification(LogMessageNotification.type, () => undefined);
  connection.onNotification(PublishDiagnosticsNotification.type, () => undefined);
  connection.listen();

  const rootUri = fileUri(root);
  try {
    session.initializeResult = await withTimeout(
      connection.sendRequest(InitializeRequest.type, {
        processId: process.pid,
        clientInfo: { name: 'Visual Studio Code', version: '1.95.3' },
        locale: 'en',
        rootPath: root,
        rootUri,
        capabilities: vscodeCapabilities(),
        trace: 'off',
        workspaceFolders: [{ uri: rootUri, name: path.basename(root) }],
      }),
      'initialize',
    );
  } catch (e) {
    session.kill();
    throw new Error(`${e instanceof Error ? e.message : String(e)}\nserver stderr:\n${session.stderr}`);
  }
  await connection.sendNotification(InitializedNotification.type, {});
  // With `synchronize.configurationSection`, the client sends the section
  // once after `initialized`, wrapped in its name.
  await connection.sendNotification(DidChangeConfigurationNotification.type, {
    settings: { [SETTINGS_SECTION]: settings },
  });
  return session;
}

/** Offset in `text` of an LSP position (UTF-16 code units, as JS strings and VS Code count). */
export function offsetAt(text: string, position: Position): number {
  let offset = 0;
  for (let line = 0; line < position.line; line++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) {
      return text.length;
    }
    offset = next + 1;
  }
  return Math.min(offset + position.character, text.length);
}

/** `text` with `edits` applied; edits do not overlap and refer to the original text. */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => offsetAt(text, b.range.start) - offsetAt(text, a.range.start));
  let result = text;
  for (const edit of sorted) {
    result = result.slice(0, offsetAt(text, edit.range.start)) + edit.newText + result.slice(offsetAt(text, edit.range.end));
  }
  return result;
}
