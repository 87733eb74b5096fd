// cargo-leptos starts the server and Playwright together: wait until it answers, then
// give every test person an account through the real `user` command.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ACCOUNTS, PASSWORD } from './tests/accounts';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'target/debug/temporal-playground');
const CONFIG = path.join(__dirname, 'e2e.toml');

function user(args: string[]) {
  execFileSync(BIN, ['user', ...args, '--password-stdin', '--config', CONFIG], {
    cwd: ROOT,
    input: `${PASSWORD}\n`,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export default async function globalSetup() {
  const base = process.env.E2E_BASE_URL ?? 'http://127.0.0.1:3100';
  const deadline = Date.now() + 180_000;
  let up = false;
  while (!up && Date.now() < deadline) {
    try {
      up = (await fetch(`${base}/healthz`)).ok;
    } catch {
      // not up yet
    }
    if (!up) await new Promise((r) => setTimeout(r, 500));
  }
  if (!up) throw new Error(`the dashboard never answered at ${base}/healthz`);
  for (const [name, roles] of Object.entries(ACCOUNTS)) {
    try {
      user(['add', name, '--roles', roles]);
    } catch {
      user(['change', name, '--roles', roles]);
    }
  }
}
