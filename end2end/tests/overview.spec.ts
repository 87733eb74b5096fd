import { test, expect } from '@playwright/test';

test('the overview shows live counts from Temporal, rendered on the server', async ({ page, request }) => {
  const html = await (await request.get('/')).text();
  expect(html).toContain('Orders by stage');
  expect(html).toContain('data-stage="manual"');

  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Orders by stage' })).toBeVisible();
  await expect(page.locator('[data-stage="querying"]')).toBeVisible();
});
