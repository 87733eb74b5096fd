import { test, expect } from '@playwright/test';
import { keysReady, signIn, startOrder, uniqueId, shot } from './helpers';

test('retry now on a stale order, from the keyboard, resolves it without waiting for the timer', async ({ page }) => {
  // One 503 uses up the single attempt; the stale retry then gets paid. The wait is an hour.
  const orderId = uniqueId('flaky1-st');
  startOrder(orderId, 'e2e-stale.toml');
  await signIn(page, 'cam');
  await expect(async () => {
    await page.goto('/stale');
    await expect(page.locator(`tr[data-order="${orderId}"]`)).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  const row = page.locator(`tr[data-order="${orderId}"]`);
  await expect(row).toContainText(/in (59|60)m/);
  await expect(row.getByTestId('attempts')).toHaveText('1');
  await expect(row).toContainText('http_503');
  await shot(page, 'stale-orders');
  // Its lane says when the timer fires as an age, the exact time on hover.
  await page.goto(`/orders/${orderId}`);
  await expect(page.getByTestId('next-retry')).toHaveText(/^in (59 min|1 h)$/);
  await page.goto('/stale');

  // From the keyboard: select the order's row, `t` retries that order (not the first row's).
  await expect(page.getByTestId('keys')).toContainText('t retries the selected order');
  await keysReady(page);
  await row.locator('a').focus();
  // The button posts as a form; the list comes back once the server has it.
  const posted = page.waitForResponse((r) => r.url().includes('/api/retry_stale') && r.request().method() === 'POST');
  await page.keyboard.press('t');
  expect((await posted).status()).toBeLessThan(400);
  await expect(async () => {
    await page.goto(`/orders/${orderId}`);
    await expect(page.getByTestId('resolution')).toContainText('paid', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
});

test('retrying a filtered set says how many it will touch and asks first', async ({ page }) => {
  await signIn(page, 'cam');
  // Nothing matches: it says so, and offers no retry that would touch nothing.
  await page.goto('/stale?reason=no_such_reason');
  await expect(page.getByTestId('stale-empty')).toHaveText('No order is waiting on its timer here.');
  await expect(page.getByRole('link', { name: 'Retry all matching…' })).toHaveCount(0);

  // One more stale order (an hour's wait; its next query is paid), then every order
  // waiting with its error, retried together once the number is confirmed.
  const orderId = uniqueId('flaky1-bulk');
  startOrder(orderId, 'e2e-stale.toml');
  await expect(async () => {
    await page.goto('/stale?reason=http_503');
    await expect(page.locator(`tr[data-order="${orderId}"]`)).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  const waiting = Number((await page.getByTestId('stale-count').textContent())?.match(/\d+/)?.[0]);
  expect(waiting).toBeGreaterThan(0);
  await page.getByRole('link', { name: 'Retry all matching…' }).click();
  await expect(page.getByTestId('bulk-confirm')).toHaveText(`This will retry ${waiting} orders now.`);
  await page.getByRole('button', { name: 'Yes, retry them' }).click();
  await expect(page.getByTestId('bulk-result')).toHaveText(`Retrying ${waiting} orders now.`);
  await expect(async () => {
    await page.goto(`/orders/${orderId}`);
    await expect(page.getByTestId('resolution')).toContainText('paid', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
});
