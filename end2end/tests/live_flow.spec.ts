import { test, expect } from '@playwright/test';
import { signIn, shot } from './helpers';

test('live counts move while simulated payments run, pushed over server-sent events', async ({ page }) => {
  await signIn(page, 'pat');
  await page.goto('/live');
  const paid = page.getByTestId('live-paid');
  const before = Number(await paid.textContent());
  await page.getByLabel('Simulated orders per second').fill('5');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('simulating')).toContainText('running at 5/s');
  // No reload: the numbers arrive through /api/live.
  await expect.poll(async () => Number(await paid.textContent()), { timeout: 30_000 }).toBeGreaterThan(before + 3);
  await shot(page, 'live-flow');
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('simulating')).toContainText('stopped');
});
