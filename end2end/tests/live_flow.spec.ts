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

test('at demo pace a simulated order goes through stale to the manual queue within a minute', async ({ page }) => {
  await signIn(page, 'pat');
  await page.goto('/live');
  const manual = page.getByTestId('live-manual');
  const before = Number(await manual.textContent());
  await page.getByLabel('Upstream failure %').fill('95');
  await page.getByRole('button', { name: 'Set' }).click();
  await expect(page.getByLabel('Upstream failure %')).toHaveValue('95');
  await page.getByLabel('Simulated orders per second').fill('2');
  await page.getByLabel('Pace').selectOption('demo');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('simulating')).toContainText('demo pace (stale wait 10 s)');
  try {
    await expect.poll(async () => Number(await manual.textContent()), { timeout: 60_000 }).toBeGreaterThan(before);
    await shot(page, 'live-flow-demo');
  } finally {
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByLabel('Upstream failure %').fill('0');
    await page.getByRole('button', { name: 'Set' }).click();
  }
  await expect(page.getByTestId('simulating')).toContainText('stopped');
});
