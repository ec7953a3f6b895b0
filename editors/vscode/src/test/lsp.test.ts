// The extension's client side against the real server, as VS Code drives
// it: start, diagnostics, quick fix, formatting, the commands' custom
// requests, and a restart.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CodeAction,
  CodeActionRequest,
  CodeActionResolveRequest,
  CodeActionTriggerKind,
  Command,
  Diagnostic,
  DiagnosticSeverity,
  DiagnosticTag,
  DocumentFormattingRequest,
  ExecuteCommandRequest,
  ResponseError,
  TextDocumentEdit,
  TextEdit,
  WorkspaceEdit,
} from 'vscode-languageserver-protocol/node';
import {
  EventStatusRequest,
  MigrateDotfileResult,
  migrateDotfileParams,
  SyntaxTreeRequest,
  syntaxTreeParams,
} from '../protocol';
import { compareVersions, MIN_SERVER_VERSION, probeServer, resolveServerPath } from '../server';
import { applyEdits, defaultSettings, fileUri, serverBinary, Session, startSession, TIMEOUT_MS, withTimeout } from './harness';

const UNUSED_LET = 'let\n  unused = 1;\n  used = 2;\nin\nused\n';

/** The one finding UNUSED_LET has, as VS Code receives it. */
const UNUSED_LET_DIAGNOSTIC: Diagnostic = {
  range: { start: { line: 1, character: 2 }, end: { line: 1, character: 8 } },
  severity: DiagnosticSeverity.Warning,
  code: 'unused-let',
  codeDescription: { href: 'https://github.com/cim-nix/cim-nix/blob/main/doc/rules/unused-let.md' },
  source: 'cim-nix',
  message: "unused let binding 'unused'",
  tags: [DiagnosticTag.Unnecessary],
};

/** The edits of `edit` to `uri`, in either form a server may use. */
function editsFor(edit: WorkspaceEdit | undefined, uri: string): TextEdit[] {
  const fromChanges = edit?.changes?.[uri] ?? [];
  const fromDocumentChanges = (edit?.documentChanges ?? [])
    .filter((c): c is TextDocumentEdit => TextDocumentEdit.is(c) && c.textDocument.uri === uri)
    .flatMap((c) => c.edits);
  return [...fromChanges, ...fromDocumentChanges];
}

function tempRoot(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'cim-nix-vscode-'));
}

describe('the extension against the real server', () => {
  let root: string;
  let session: Session;

  before(async () => {
    root = tempRoot();
    session = await startSession(root);
  }, { timeout: TIMEOUT_MS });

  after(() => {
    session?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  test('starts and offers what the extension relies on', { timeout: TIMEOUT_MS }, async () => {
    const result = session.initializeResult;
    assert.equal(result.serverInfo?.name, 'cim-nix');
    const caps = result.capabilities;
    assert.ok(caps.documentFormattingProvider, 'formatting');
    assert.ok(caps.codeActionProvider, 'code actions');
    assert.ok(caps.hoverProvider, 'hover');
    assert.ok(caps.semanticTokensProvider, 'semantic tokens (the only highlighting this extension brings)');
    // VS Code offers only UTF-16 positions, and can pull diagnostics.
    assert.equal(caps.positionEncoding ?? 'utf-16', 'utf-16');
    assert.ok(caps.diagnosticProvider, 'pull diagnostics');

    // What the extension checks before starting it.
    const probe = await probeServer(resolveServerPath(serverBinary()));
    assert.equal(probe.kind, 'ok');
    assert.ok(probe.kind === 'ok' && compareVersions(probe.version, MIN_SERVER_VERSION) >= 0);
    assert.equal(probe.kind === 'ok' && probe.version, result.serverInfo?.version);
  });

  test('an unused let binding is reported', { timeout: TIMEOUT_MS }, async () => {
    const uri = fileUri(path.join(root, 'unused.nix'));
    await session.open(uri, UNUSED_LET);
    const report = await session.pullDiagnostics(uri);
    assert.equal(report.kind, 'full');
    assert.deepEqual(report.kind === 'full' && report.items, [UNUSED_LET_DIAGNOSTIC]);
  });

  test('its quick fix removes the binding', { timeout: TIMEOUT_MS }, async () => {
    const uri = fileUri(path.join(root, 'fix.nix'));
    await session.open(uri, UNUSED_LET);
    const report = await session.pullDiagnostics(uri);
    const diagnostic = report.kind === 'full' ? report.items.find((d) => d.code === 'unused-let') : undefined;
    assert.ok(diagnostic, 'the unused-let diagnostic');
    // What VS Code asks for when the user presses Ctrl+. on the name.
    const actions = await withTimeout(
      session.connection.sendRequest(CodeActionRequest.type, {
        textDocument: { uri },
        range: diagnostic.range,
        context: { diagnostics: [diagnostic], triggerKind: CodeActionTriggerKind.Invoked },
      }),
      'textDocument/codeAction',
    );
    const isAction = (a: Command | CodeAction): a is CodeAction => !Command.is(a);
    let fix = (actions ?? []).filter(isAction).find((a) => a.title === "Remove unused let binding 'unused'");
    assert.ok(fix, `a quick fix among ${JSON.stringify(actions?.map((a) => a.title))}`);
    assert.equal(fix.kind, 'quickfix');
    assert.equal(fix.isPreferred, true);
    if (!fix.edit) {
      // The client says it can resolve the edit later, as VS Code does.
      fix = await session.connection.sendRequest(CodeActionResolveRequest.type, fix);
    }
    assert.equal(applyEdits(UNUSED_LET, editsFor(fix.edit, uri)), 'let\n  used = 2;\nin\nused\n');
  });

  test('formatting gives the nixpkgs-fmt layout', { timeout: TIMEOUT_MS }, async () => {
    const uri = fileUri(path.join(root, 'configuration.nix'));
    const text = [
      '{ pkgs, ... }:',
      '{',
      'environment.systemPackages = [',
      'pkgs.git',
      '      pkgs.jq',
      '];',
      '    services.openssh.enable=true;',
      '}',
      '',
    ].join('\n');
    await session.open(uri, text);
    const edits = await withTimeout(
      // VS Code's default tab size is 4; the style decides the indentation.
      session.connection.sendRequest(DocumentFormattingRequest.type, {
        textDocument: { uri },
        options: { tabSize: 4, insertSpaces: true },
      }),
      'textDocument/formatting',
    );
    const expected = [
      '{ pkgs, ... }:',
      '{',
      '  environment.systemPackages = [',
      '    pkgs.git',
      '    pkgs.jq',
      '  ];',
      '  services.openssh.enable = true;',
      '}',
      '',
    ].join('\n');
    assert.equal(applyEdits(text, edits ?? []), expected);
  });

  test('"Show Syntax Tree" gets the tree of the active document', { timeout: TIMEOUT_MS }, async () => {
    const uri = fileUri(path.join(root, 'tree.nix'));
    await session.open(uri, '{ a = 1; }\n');
    const tree = await withTimeout(session.connection.sendRequest(SyntaxTreeRequest, syntaxTreeParams(uri)), 'cim-nix/syntaxTree');
    const expected = [
      'NODE_ROOT@0..11',
      '  NODE_ATTR_SET@0..10',
      '    TOKEN_L_BRACE@0..1 "{"',
      '    TOKEN_WHITESPACE@1..2 " "',
      '    NODE_ATTRPATH_VALUE@2..8',
      '      NODE_ATTRPATH@2..3',
      '        NODE_IDENT@2..3',
      '          TOKEN_IDENT@2..3 "a"',
      '      TOKEN_WHITESPACE@3..4 " "',
      '      TOKEN_ASSIGN@4..5 "="',
      '      TOKEN_WHITESPACE@5..6 " "',
      '      NODE_LITERAL@6..7',
      '        TOKEN_INTEGER@6..7 "1"',
      '      TOKEN_SEMICOLON@7..8 ";"',
      '    TOKEN_WHITESPACE@8..9 " "',
      '    TOKEN_R_BRACE@9..10 "}"',
      '  TOKEN_WHITESPACE@10..11 "\\n"',
      '',
    ].join('\n');
    assert.equal(tree, expected);
  });

  test('"Show Event Status" gets the delivery counters', { timeout: TIMEOUT_MS }, async () => {
    const status = await withTimeout(session.connection.sendRequest(EventStatusRequest), 'cim-nix/eventStatus');
    // No `nats.url` in the default settings: events are off.
    assert.deepEqual(status, { enabled: false });
  });

  test('"Migrate a Dotfile into This File" inserts the options through an edit', { timeout: TIMEOUT_MS }, async () => {
    const dotfile = path.join(root, 'gitconfig');
    writeFileSync(dotfile, '[user]\n\tname = Ada Lovelace\n[alias]\n\tco = checkout\n');
    const uri = fileUri(path.join(root, 'home.nix'));
    const home = '{ pkgs, ... }:\n{\n  home.stateVersion = "25.11";\n}\n';
    await session.open(uri, home);
    const result = (await withTimeout(
      session.connection.sendRequest(ExecuteCommandRequest.type, migrateDotfileParams(dotfile, uri)),
      'workspace/executeCommand',
    )) as MigrateDotfileResult;
    assert.equal(result.applied, true);
    assert.equal(result.option, 'programs.git');
    assert.equal(result.release, '25.11');
    const edit = session.appliedEdits.at(-1);
    assert.ok(edit, 'the server asked VS Code to apply an edit');
    assert.equal(
      applyEdits(home, editsFor(edit, uri)),
      [
        '{ pkgs, ... }:',
        '{',
        '  home.stateVersion = "25.11";',
        '  programs.git = {',
        '    enable = true;',
        '    settings = {',
        '      user.name = "Ada Lovelace";',
        '      alias.co = "checkout";',
        '    };',
        '  };',
        '}',
        '',
      ].join('\n'),
    );
  });

  test('the server asked for nothing VS Code would refuse', () => {
    assert.deepEqual(session.unexpected, []);
    assert.deepEqual(session.messages, []);
  });
});

describe('a file the server has no tree for', () => {
  let root: string;
  let session: Session;

  before(async () => {
    root = tempRoot();
    // Above `maxFileSize` a file is not parsed at all.
    session = await startSession(root, { ...defaultSettings(), maxFileSize: 16 });
  }, { timeout: TIMEOUT_MS });

  after(() => {
    session?.kill();
    rmSync(root, { recursive: true, force: true });
  });

  test('"Show Syntax Tree" gets the error message it shows', { timeout: TIMEOUT_MS }, async () => {
    const uri = fileUri(path.join(root, 'big.nix'));
    await session.open(uri, '{ a = 1; b = 2; c = 3; }\n');
    // The settings arrive after `initialized`, and the document is analysed
    // again once they apply.
    await session.waitFor(async () => {
      const report = await session.pullDiagnostics(uri);
      return report.kind === 'full' && report.items.some((d) => d.code === 'analysis-limit');
    }, 'an analysis-limit diagnostic');
    const error = await session.connection.sendRequest(SyntaxTreeRequest, syntaxTreeParams(uri)).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof ResponseError, `an error, got ${String(error)}`);
    assert.equal(error.code, -32803);
    assert.equal(
      error.message,
      'no syntax tree: file is 25 bytes; cim-nix analyses files up to 16 bytes (setting `maxFileSize`)',
    );
  });
});

describe('restarting the server', () => {
  let root: string;
  const sessions: Session[] = [];

  before(() => {
    root = tempRoot();
  });

  after(() => {
    sessions.forEach((s) => s.kill());
    rmSync(root, { recursive: true, force: true });
  });

  test('a second server serves after the first one shut down', { timeout: 3 * TIMEOUT_MS }, async () => {
    const uri = fileUri(path.join(root, 'restart.nix'));
    const settings = defaultSettings();

    const first = await startSession(root, settings);
    sessions.push(first);
    await first.open(uri, UNUSED_LET);
    const before = await first.pullDiagnostics(uri);
    assert.deepEqual(before.kind === 'full' && before.items, [UNUSED_LET_DIAGNOSTIC]);
    assert.equal(await first.shutdown(), 0, 'the first server exits cleanly');

    // What "cim-nix: Restart Server" does: the same options, a new process;
    // VS Code opens the editor's documents again.
    const second = await startSession(root, settings);
    sessions.push(second);
    assert.notEqual(second.process.pid, first.process.pid);
    await second.open(uri, UNUSED_LET);
    const after = await second.pullDiagnostics(uri);
    assert.deepEqual(after.kind === 'full' && after.items, [UNUSED_LET_DIAGNOSTIC]);
    assert.equal(await second.shutdown(), 0);
  });
});
