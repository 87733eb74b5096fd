import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import { signIn, startOrder, uniqueId, shot } from './helpers';

test('finance reads who did what on the audit page and downloads it as CSV; support cannot', async ({ browser }) => {
  const orderId = uniqueId('down-audit');
  startOrder(orderId);
  const ana = await (await browser.newContext()).newPage();
  await signIn(ana, 'ana');
  await expect(async () => {
    await ana.goto(`/orders/${orderId}`);
    await expect(ana.getByTestId('open-stage')).toHaveText('manual', { timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  await ana.getByRole('button', { name: 'Claim' }).click();
  await expect(ana.getByTestId('claimed-by')).toContainText('ana (claimed');
  await expect(ana.getByRole('link', { name: 'Audit', exact: true })).toHaveCount(0);
  const refused = await ana.request.get('/audit.csv');
  expect(refused.status()).toBe(403);

  const page = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await signIn(page, 'fin');
  await page.getByRole('link', { name: 'Audit', exact: true }).click();
  await page.getByLabel('Person').fill('ana');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/actor=ana/);
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('audit').locator('tr', { hasText: orderId })).toContainText('claim', { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await shot(page, 'audit');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Export as CSV' }).click(),
  ]);
  const text = fs.readFileSync(await download.path(), 'utf8');
  const lines = text.trim().split('\r\n');
  expect(lines[0]).toBe('time_utc,actor,action,target,outcome,channel,origin');
  const rows = lines.slice(1).map((l) => l.slice(1, -1).split('","'));
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) {
    expect(row).toHaveLength(7);
    expect(row[1]).toBe('ana');
  }
  expect(rows.some((r) => r[2] === 'claim' && r[3] === orderId)).toBe(true);
});
