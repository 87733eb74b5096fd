import { execFileSync } from 'node:child_process';
import { Page, expect } from '@playwright/test';
import path from 'node:path';

const BIN = path.resolve(__dirname, '../../target/debug/temporal-playground');

/// Starts an order through the real CLI, with the reconcile policy of `config`.
export function startOrder(orderId: string, config = 'e2e.toml') {
  execFileSync(BIN, ['client', 'start', '-o', orderId, '--config', path.resolve(__dirname, '..', config)], {
    env: process.env,
    stdio: 'pipe',
  });
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
}

export async function signIn(page: Page, name: string) {
  await page.goto('/');
  await page.getByLabel('You are').fill(name);
  await page.getByRole('button', { name: /Save|Change/ }).click();
  await expect(page.getByLabel('You are')).toHaveValue(name);
  // The cookie is set by the server function's response.
  await expect.poll(async () => (await page.context().cookies()).some((c) => c.name === 'tp_operator')).toBe(true);
}

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.resolve(__dirname, '../../docs/screenshots', `${name}.png`), fullPage: true });
}
