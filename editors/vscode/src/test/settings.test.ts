// package.json's settings as the server receives them: the defaults VS Code
// sends when the user set nothing must be accepted silently, and a bad value
// must be reported (the server answers it with window/showMessage).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { MessageType } from 'vscode-languageserver-protocol/node';
import { delay, defaultSettings, packageJson, Session, startSession, TIMEOUT_MS } from './harness';

describe('settings', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cim-nix-settings-'));
  const sessions: Session[] = [];

  after(() => {
    sessions.forEach((s) => s.kill());
    rmSync(root, { recursive: true, force: true });
  });

  test('package.json contributes the server settings and the two client ones', () => {
    const keys = Object.keys(packageJson().contributes.configuration.properties);
    assert.ok(keys.every((k) => k.startsWith('cim-nix.')), keys.join(', '));
    // The generator puts the extension's own two last.
    assert.deepEqual(keys.slice(-2), ['cim-nix.server.path', 'cim-nix.trace.server']);
    for (const key of ['cim-nix.diagnostics.enable', 'cim-nix.formatting.style', 'cim-nix.rules', 'cim-nix.maxFileSize']) {
      assert.ok(keys.includes(key), `${key} in package.json`);
    }
  });

  test('the defaults VS Code sends are accepted without a warning', { timeout: TIMEOUT_MS }, async () => {
    const settings = defaultSettings();
    // The whole section, the extension's own keys included, as VS Code sends it.
    assert.deepEqual(settings.server, { path: 'cim-nix' });
    assert.deepEqual(settings.trace, { server: 'off' });
    assert.equal((settings.formatting as { style: string }).style, 'auto');

    const session = await startSession(root, settings);
    sessions.push(session);
    await session.waitFor(() => session.configurationAnswered > 0, 'workspace/configuration');
    // The warning would follow the answer at once; give it time to come.
    await delay(1500);
    assert.deepEqual(session.messages, [], 'no window/showMessage about settings');
  });

  test('an invalid value is reported with a warning', { timeout: TIMEOUT_MS }, async () => {
    const settings = defaultSettings();
    settings.formatting = { ...(settings.formatting as object), style: 'black' };
    const session = await startSession(root, settings);
    sessions.push(session);
    await session.waitFor(() => session.messages.length > 0, 'a window/showMessage');
    const [message] = session.messages;
    assert.equal(message.type, MessageType.Warning);
    assert.ok(message.message.includes('formatting.style'), message.message);
    assert.ok(message.message.includes('"black"'), message.message);
  });
});
