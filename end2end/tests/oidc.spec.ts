import { test, expect } from '@playwright/test';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// A second console in `oidc` mode beside the suite's, on the same Temporal, against a real
// OpenID Connect provider on loopback (end2end/oidc/mock-idp.mjs).
const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'target/debug/temporal-playground');
let idp: ChildProcess;
let console_: ChildProcess;
let base = '';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function answers(url: string) {
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} never answered`);
}

test.beforeAll(async () => {
  const [idpPort, webPort, simPort] = [await freePort(), await freePort(), await freePort()];
  idp = spawn('node', [path.join(ROOT, 'end2end/oidc/mock-idp.mjs'), String(idpPort)], { cwd: ROOT, stdio: 'ignore' });
  await answers(`http://localhost:${idpPort}/.well-known/openid-configuration`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-oidc-'));
  const config = path.join(dir, 'oidc.toml');
  fs.writeFileSync(
    config,
    `[upstream]\nsimulate = true\nsimulator_listen = "127.0.0.1:${simPort}"\n` +
      `[dashboard]\nlisten = "127.0.0.1:${webPort}"\n` +
      `[auth]\nmode = "oidc"\nsession_key_file = "${path.join(dir, 'session.key')}"\n` +
      `[auth.oidc]\nissuer_url = "http://localhost:${idpPort}"\nclient_id = "temporal-playground"\n` +
      `redirect_url = "http://127.0.0.1:${webPort}/auth/callback"\ngroup_prefix = "tp-"\n`,
  );
  // --listen: the suite's LEPTOS_SITE_ADDR would otherwise win over the file.
  const log = fs.openSync(path.join(dir, 'serve.log'), 'w');
  console_ = spawn(BIN, ['serve', '--no-worker', '--listen', `127.0.0.1:${webPort}`, '--config', config], {
    cwd: ROOT,
    env: process.env,
    stdio: ['ignore', log, log],
  });
  base = `http://127.0.0.1:${webPort}`;
  try {
    await answers(`${base}/healthz`);
  } catch (e) {
    throw new Error(`${e}: ${fs.readFileSync(path.join(dir, 'serve.log'), 'utf8').slice(-2000)}`);
  }
});

test.afterAll(() => {
  console_?.kill('SIGTERM');
  idp?.kill('SIGTERM');
});

test('a person signs in with single sign-on and gets the roles their groups give', async ({ page }) => {
  await page.goto(`${base}/contracts`);
  await expect(page).toHaveURL(/\/login\?next=%2Fcontracts/);
  await expect(page.getByLabel('Password')).toHaveCount(0);
  await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();
  // The provider answers at once (no login form), back to where the person was going.
  await expect(page).toHaveURL(`${base}/contracts`);
  await expect(page.getByTestId('signed-in')).toContainText('sso-ana');
  await expect(page.getByTestId('signed-in')).toContainText('support');
  await expect(page.getByRole('button', { name: 'Create' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
});
