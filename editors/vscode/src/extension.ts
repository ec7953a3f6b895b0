// The VS Code side: starts the cim-nix language server for Nix files and
// adds the extension's commands. What can be tested without VS Code lives
// in server.ts (finding the binary) and protocol.ts (what is sent).

import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';
import {
  DOCUMENT_SELECTOR,
  EventStatusRequest,
  MigrateDotfileResult,
  migrateDotfileParams,
  SETTINGS_SECTION,
  SyntaxTreeRequest,
  serverCommand,
  syntaxTreeParams,
} from './protocol';
import { probeMessage, probeServer, resolveServerPath } from './server';

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
// Start, stop and restart run one after the other: a settings change during
// activation must not leave two servers running.
let queue: Promise<void> = Promise.resolve();

function serialized(task: () => Promise<void>): Promise<void> {
  queue = queue.then(task, task);
  return queue;
}

export function activate(context: vscode.ExtensionContext): Promise<void> {
  // One channel for the whole session, so a restart keeps the earlier log.
  output = vscode.window.createOutputChannel('cim-nix');
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('cim-nix.restartServer', restart),
    vscode.commands.registerCommand('cim-nix.showSyntaxTree', showSyntaxTree),
    vscode.commands.registerCommand('cim-nix.showEventStatus', showEventStatus),
    // Not `cim-nix.migrateDotfile`: the client registers the server's own
    // command under that name.
    vscode.commands.registerCommand('cim-nix.migrateDotfileHere', migrateDotfileHere),
    vscode.workspace.onDidChangeConfiguration((e) => {
      // Other settings reach the running server (synchronize below); a new
      // binary needs a new process.
      if (e.affectsConfiguration(`${SETTINGS_SECTION}.server.path`)) {
        void restart();
      }
    }),
  );
  return serialized(start);
}

export function deactivate(): Promise<void> {
  return serialized(stop);
}

function restart(): Promise<void> {
  return serialized(async () => {
    await stop();
    await start();
  });
}

async function start(): Promise<void> {
  const setting = vscode.workspace.getConfiguration(SETTINGS_SECTION).get<string>('server.path');
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
  const program = resolveServerPath(setting, folder?.uri.fsPath);
  const probe = await probeServer(program);
  if (probe.kind !== 'ok') {
    const message = probeMessage(probe) ?? '';
    output.appendLine(message);
    void showSetupError(message);
    return;
  }
  output.appendLine(`Starting ${program} (cim-nix ${probe.version})`);
  const { command, args } = serverCommand(program);
  const serverOptions: ServerOptions = { command, args, transport: TransportKind.stdio };
  const clientOptions: LanguageClientOptions = {
    documentSelector: DOCUMENT_SELECTOR,
    // Sends didChangeConfiguration when the section changes; the server then
    // reads it again with workspace/configuration.
    synchronize: { configurationSection: SETTINGS_SECTION },
    outputChannel: output,
  };
  // The id 'cim-nix' makes the client read its trace level from `cim-nix.trace.server`.
  client = new LanguageClient('cim-nix', 'cim-nix', serverOptions, clientOptions);
  try {
    await client.start();
  } catch (e) {
    output.appendLine(`The server did not start: ${errorText(e)}`);
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.dispose();
    } catch (e) {
      // A server that already died cannot be shut down politely; that is fine.
      output.appendLine(`Stopping the server: ${errorText(e)}`);
    }
  }
}

async function showSetupError(message: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(message, 'Open settings');
  if (choice === 'Open settings') {
    await vscode.commands.executeCommand('workbench.action.openSettings', `${SETTINGS_SECTION}.server.path`);
  }
}

async function showSyntaxTree(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'nix') {
    void vscode.window.showInformationMessage('cim-nix: open a Nix file to see its syntax tree.');
    return;
  }
  const running = runningClient();
  if (!running) {
    return;
  }
  const uri = running.code2ProtocolConverter.asUri(editor.document.uri);
  try {
    const tree = await running.sendRequest(SyntaxTreeRequest, syntaxTreeParams(uri));
    await showText(tree, 'plaintext');
  } catch (e) {
    // For a file it could not parse the server answers "no syntax tree: <why>".
    void vscode.window.showErrorMessage(`cim-nix: ${errorText(e)}`);
  }
}

// Asks for a dotfile and has the server insert its Home Manager options into
// the active file (the server edits it through workspace/applyEdit).
async function migrateDotfileHere(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'nix' || editor.document.uri.scheme !== 'file') {
    void vscode.window.showInformationMessage(
      'cim-nix: open the Home Manager file (home.nix) the options should go into, then run the command again.',
    );
    return;
  }
  const running = runningClient();
  if (!running) {
    return;
  }
  const picked = await vscode.window.showOpenDialog({
    title: `Dotfile to migrate into ${path.basename(editor.document.uri.fsPath)}`,
    openLabel: 'Migrate',
    defaultUri: vscode.Uri.file(os.homedir()),
    canSelectMany: false,
  });
  if (!picked || picked.length === 0) {
    return;
  }
  const target = running.code2ProtocolConverter.asUri(editor.document.uri);
  try {
    const result = (await running.sendRequest(
      ExecuteCommandRequest.type,
      migrateDotfileParams(picked[0].fsPath, target),
    )) as MigrateDotfileResult;
    for (const warning of result.warnings) {
      output.appendLine(`${picked[0].fsPath}${warning.line ? `:${warning.line}` : ''}: warning: ${warning.message}`);
    }
    const note = result.warnings.length > 0 ? ` (${result.warnings.length} warnings in the cim-nix output)` : '';
    void vscode.window.showInformationMessage(`cim-nix: added ${result.option} for Home Manager ${result.release}${note}.`);
  } catch (e) {
    void vscode.window.showErrorMessage(`cim-nix: ${errorText(e)}`);
  }
}

async function showEventStatus(): Promise<void> {
  const running = runningClient();
  if (!running) {
    return;
  }
  try {
    const status = await running.sendRequest(EventStatusRequest);
    await showText(JSON.stringify(status, null, 2), 'json');
  } catch (e) {
    void vscode.window.showErrorMessage(`cim-nix: ${errorText(e)}`);
  }
}

function runningClient(): LanguageClient | undefined {
  if (!client || !client.isRunning()) {
    void vscode.window.showErrorMessage('cim-nix: the language server is not running (see the "cim-nix" output).');
    return undefined;
  }
  return client;
}

/** Shows text in a new untitled document beside the editor (not a file: nothing is written). */
async function showText(content: string, language: string): Promise<void> {
  const document = await vscode.workspace.openTextDocument({ content, language });
  await vscode.window.showTextDocument(document, { preview: false, viewColumn: vscode.ViewColumn.Beside });
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
