import { test, expect } from '@playwright/test';
import { formLive, setSimulatorFigure, signIn, shot } from './helpers';

test('live counts move while simulated payments run, pushed over server-sent events', async ({ page }) => {
  await signIn(page, 'pat');
  await page.goto('/live');
  const paid = page.getByTestId('live-paid');
  const before = Number(await paid.textContent());
  await formLive(page, 'Simulated payments');
  await page.getByLabel('Simulated orders per second').fill('5');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('simulating')).toContainText('running at 5/s');
  // No reload: the numbers arrive through /api/live.
  await expect.poll(async () => Number(await paid.textContent()), { timeout: 30_000 }).toBeGreaterThan(before + 3);
  // The arrow into the resolved stages runs while orders arrive there.
  await expect.poll(async () => page.locator('.flow-arrow[data-flowing="true"]').count()).toBeGreaterThan(0);
  // The chart draws from the same pushed snapshots.
  await expect.poll(async () => Number(await page.getByTestId('chart').getAttribute('data-points'))).toBeGreaterThan(3);
  // Now is at the right edge, and the baseline spans the chart.
  await expect(page.getByTestId('chart').locator('polyline').first()).toHaveAttribute('points', / 600\.0,[\d.]+$/);
  await expect(page.getByTestId('chart').locator('line')).toHaveAttribute('x2', '600');
  await shot(page, 'live-flow');
  // An action keeps the chart's history and what the presenter typed.
  const points = Number(await page.getByTestId('chart').getAttribute('data-points'));
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('simulating')).toContainText('stopped');
  expect(Number(await page.getByTestId('chart').getAttribute('data-points'))).toBeGreaterThanOrEqual(points);
  await expect(page.getByLabel('Simulated orders per second')).toHaveValue('5');
  // The waiting stages open their lists: a presenter goes on to the manual queue.
  await page.locator('[data-stage="manual"]').getByRole('link', { name: 'Manual' }).click();
  await expect(page.getByRole('heading', { name: 'Manual queue' })).toBeVisible();
});

test('at demo pace a simulated order goes through stale to the manual queue within a minute', async ({ page }) => {
  await signIn(page, 'pat');
  await page.goto('/live');
  const manual = page.getByTestId('live-manual');
  const before = Number(await manual.textContent());
  await setSimulatorFigure(page, 'Upstream failure %', 'Set failures', '95');
  await page.getByLabel('Simulated orders per second').fill('2');
  await page.getByLabel('Pace').selectOption('demo');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('simulating')).toContainText('demo pace (stale wait 10 s)');
  try {
    await expect.poll(async () => Number(await manual.textContent()), { timeout: 60_000 }).toBeGreaterThan(before);
    await shot(page, 'live-flow-demo');
  } finally {
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect(page.getByTestId('simulating')).toContainText('stopped');
    await setSimulatorFigure(page, 'Upstream failure %', 'Set failures', '0');
  }
});

test('the upstream panel shows a throttling bank as throttling', async ({ page }) => {
  await signIn(page, 'root');
  await page.goto('/live');
  await setSimulatorFigure(page, 'Upstream throttling % (429)', 'Set throttling', '60');
  await page.getByLabel('Simulated orders per second').fill('5');
  await page.getByRole('button', { name: 'Start' }).click();
  try {
    const bank = page.locator('tr[data-upstream="simbank"]');
    await expect(bank.getByTestId('upstream-state')).toHaveText('throttling', { timeout: 30_000 });
    await expect(bank).toContainText(/\d+ \/ \d+ \/ \d+ ms/);
    await shot(page, 'upstream-panel');
  } finally {
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect(page.getByTestId('simulating')).toContainText('stopped');
    await setSimulatorFigure(page, 'Upstream throttling % (429)', 'Set throttling', '0');
  }
});
