import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { signIn, startOrder, uniqueId } from './helpers';

test('an order terminated from Temporal\'s CLI is listed as dropped, and support puts it back from its row', async ({ page }) => {
  const orderId = uniqueId('down-drop');
  startOrder(orderId);
  await signIn(page, 'cam');
  await expect(async () => {
    await page.goto(`/orders/${orderId}`);
    await expect(page.getByTestId('open-stage')).toHaveText('manual', { timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  execFileSync('temporal', ['workflow', 'terminate', '-w', `manual-${orderId}`, '--reason', 'namespace cleanup'],
    { env: process.env, stdio: 'pipe' });

  // Its lane no longer says it waits (nor that it was resolved).
  await expect(async () => {
    await page.goto(`/orders/${orderId}`);
    await expect(page.getByTestId('open-stage')).toHaveText('dropped', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByTestId('dropped')).toContainText('its ManualHandle was terminated by');
  await expect(page.getByTestId('dropped')).toContainText('namespace cleanup');

  // The list has it, with who ended it and why; support puts it back from its row.
  await page.goto('/dropped');
  const row = page.locator(`tr[data-order="${orderId}"]`);
  await expect(row).toContainText('terminated');
  await expect(row).toContainText('namespace cleanup');
  await row.getByLabel(`Why ${orderId} goes back to the queue`).fill('terminated by mistake');
  await row.getByRole('button', { name: 'Back to the queue' }).click();
  await expect(page).toHaveURL(new RegExp(`/orders/${orderId}$`));
  await expect(page.getByTestId('open-stage')).toHaveText('manual');
  await expect(page.getByTestId('put-back-by')).toContainText('cam put the order back in the queue');
  await expect(page.getByTestId('put-back-by')).toContainText('terminated by mistake');
});
