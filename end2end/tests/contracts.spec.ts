import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import { formLive, signIn, uniqueId, shot } from './helpers';

test('a contract is created, shows its next charges and is cancelled with a reason', async ({ page }) => {
  const id = uniqueId('C');
  await signIn(page, 'fin');
  await page.goto('/contracts');
  await page.getByLabel('Contract id').fill(id);
  await page.getByLabel('Customer').fill('ana');
  await page.getByLabel('Terms (0 = until cancelled)').fill('3');
  await page.getByLabel('Every').fill('30d');
  const clicked = Date.now();
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByTestId('created')).toContainText('Next charges');
  const row = page.locator(`tr[data-contract="${id}"]`);
  await expect(row).toContainText('active');
  await expect(row).toContainText('9.99 USD');
  await expect(row).toContainText('every 30d (Asia/Kuala_Lumpur)');
  await expect(row).toContainText('membership-monthly');
  // The first charge is 30 days from now (in UTC on hover), written in the contract's
  // own zone (Kuala Lumpur: +08) as the list writes it.
  const day = (ms: number) => new Date(ms + 30 * 86400_000).toISOString().slice(0, 10);
  const days = `(${day(clicked)}|${day(Date.now())})`;
  await expect(row.locator('time')).toHaveAttribute('datetime', new RegExp(`^${days}T`));
  await expect(row.locator('time')).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d \+08$/);
  const utc = (await row.locator('time').getAttribute('datetime'))!;
  const kl = new Date(Date.parse(utc) + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
  await expect(row.locator('time')).toHaveText(`${kl} +08`);
  const shown = await row.locator('time').textContent();
  await expect(page.getByTestId('created')).toContainText(`Next charges: ${shown}, `);
  await shot(page, 'contracts');

  // Finance's export: the contract with its amount in dollars and its time zone.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: /Export as CSV/ }).click(),
  ]);
  const lines = fs.readFileSync(await download.path(), 'utf8').trim().split('\r\n');
  expect(lines[0]).toBe(
    '"contract_id","customer","plan","amount","currency","cadence","time_zone","state","terms_left","charges_started","next_charge_utc","note","next_charge_local","heads_up"',
  );
  const csvRow = lines.find((l) => l.startsWith(`"${id}"`))!.slice(1, -1).split('","');
  expect(csvRow[3]).toBe('9.99');
  expect(csvRow[4]).toBe('USD');
  expect(csvRow[6]).toBe('Asia/Kuala_Lumpur');
  expect(csvRow[7]).toBe('active');
  expect(csvRow[10]).toBe(utc);
  expect(csvRow[12]).toBe(`${kl} +08`);
  expect(csvRow[13]).toBe('');

  await page.locator(`tr[data-contract="${id}"] a`).click();
  // Read as a date and time to the minute, the exact moment on hover.
  await expect(page.getByTestId('next-charges')).toContainText(`${kl} +08`);
  await expect(page.getByTestId('next-charges').locator('time').first()).toHaveAttribute('datetime', /\d{4}-\d\d-\d\dT/);
  await expect(page.getByTestId('contract-state')).toHaveText('active');
  await page.getByLabel('Reason').fill('customer asked to stop');
  await page.locator('select[name="change"]').selectOption('cancel');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('contract-state')).toHaveText('cancelled');
  await shot(page, 'contract');
});

test('a bad contract is refused with the reason', async ({ page }) => {
  await signIn(page, 'fin');
  await page.goto('/contracts');
  await page.getByLabel('Contract id').fill(uniqueId('C'));
  await page.getByLabel('Customer').fill('ana');
  await formLive(page, 'Create a contract');
  await page.getByLabel('Time zone').fill('Mars/Olympus');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByTestId('action-error')).toContainText('not an IANA time zone');
  // What was typed stays, to be corrected.
  await expect(page.getByLabel('Customer')).toHaveValue('ana');
  await expect(page.getByLabel('Time zone')).toHaveValue('Mars/Olympus');
});
