import { test, expect } from '@playwright/test';
import { signIn } from './helpers';

test('every page says when the bank is the simulator', async ({ page }) => {
  await signIn(page, 'pat');
  for (const path of ['/', '/stale', '/contracts', '/live']) {
    await page.goto(path);
    await expect(page.getByTestId('simulated-upstream')).toContainText('Simulated bank');
  }
});
