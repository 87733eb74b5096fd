import { test, expect } from '@playwright/test';

test('every page says when the bank is the simulator', async ({ page }) => {
  for (const path of ['/', '/stale', '/contracts', '/live']) {
    await page.goto(path);
    await expect(page.getByTestId('simulated-upstream')).toContainText('Simulated bank');
  }
});
