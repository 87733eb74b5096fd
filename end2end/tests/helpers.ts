import { execFileSync } from 'node:child_process';
import { Locator, Page, expect } from '@playwright/test';
import path from 'node:path';
import { PASSWORD } from './accounts';

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

/// Signs in through the sign-in page, as a person does.
export async function signIn(page: Page, name: string, password = PASSWORD) {
  await page.goto('/login');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in')).toContainText(name);
}

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.resolve(__dirname, '../../docs/screenshots', `${name}.png`), fullPage: true });
}

/// Sets one of the live page's failure figures (`label` names its field, `button` its
/// submit) and waits until the server holds it: a fresh page shows the server's figure,
/// not what was typed. It posts from the live form (the page's island), so no navigation
/// is under way when it reloads: a plain form's post ends in a redirect, and a reload
/// racing that navigation failed CI with "Not attached to an active page". It reloads only
/// once the server has answered the post: a reload while the post is still leaving cancels
/// it (CI once failed so, expecting 60, seeing 0). A reload that fails is tried again.
export async function setSimulatorFigure(page: Page, label: string, button: string, value: string) {
  await formLive(page, button);
  await page.getByLabel(label).fill(value);
  await submitAndAwait(page, page.getByRole('button', { name: button }), 'set_failure_rate');
  await expect(async () => {
    await page.reload();
    await expect(page.getByLabel(label)).toHaveValue(value, { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
}

/// Clicks a form's submit `button` and waits for the server's answer to its post (the
/// server function `name`), so a reload or a navigation that follows cannot cancel the
/// post while it is still leaving. A refusal fails here, with its status.
export async function submitAndAwait(page: Page, button: Locator, name: string) {
  const answered = page.waitForResponse(
    (r) => r.url().includes(`/api/${name}`) && r.request().method() === 'POST',
  );
  await button.click();
  expect((await answered).status()).toBeLessThan(400);
}

/// Waits until the page's keys listen: the keyboard handler is an island, live once the
/// page's WASM has loaded (a person pressing a key earlier gets the browser's own keys).
export async function keysReady(page: Page) {
  await expect(page.getByTestId('keys')).toHaveAttribute('data-ready', 'yes');
}

/// Waits until the form named `label` (its aria-label) is live: a form island posts from the
/// page and keeps what was typed when refused; before, it posts as a plain form.
export async function formLive(page: Page, label: string) {
  await expect(page.locator(`form[aria-label="${label}"]`)).toHaveAttribute('data-live', 'yes');
}
