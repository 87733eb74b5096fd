import { test, expect } from '@playwright/test';
import { signIn, startOrder, uniqueId } from './helpers';

test('support asks the bank again about a waiting order, and its verdict settles it', async ({ page }) => {
  // The simulated bank answers 503 to the first query and to the stale stage's, then paid.
  const orderId = uniqueId('flaky2-ask');
  startOrder(orderId);
  await signIn(page, 'bo');
  await expect(async () => {
    await page.goto(`/orders/${orderId}`);
    await expect(page.getByTestId('open-stage')).toHaveText('manual', { timeout: 1000 });
  }).toPass({ timeout: 60_000 });

  await page.getByRole('button', { name: 'Ask the bank again' }).click();
  await expect(page).toHaveURL(new RegExp(`/orders/${orderId}$`));
  await expect(page.getByTestId('asked-bank')).toContainText('bo asked the bank again');
  await expect(page.getByTestId('asked-bank')).toContainText('which settled the order');
  await expect(page.getByTestId('open-stage')).toHaveText('resolved');
  await expect(page.getByTestId('resolution')).toContainText('paid');
  await expect(page.getByTestId('resolution')).toContainText('bo asked it again');
  await expect(page.getByRole('button', { name: 'Ask the bank again' })).toHaveCount(0);
});

test('a note left on a waiting order shows on its lane for a colleague', async ({ page, browser }) => {
  const orderId = uniqueId('down-note');
  startOrder(orderId);
  await signIn(page, 'ana');
  await expect(async () => {
    await page.goto(`/orders/${orderId}`);
    await expect(page.getByTestId('open-stage')).toHaveText('manual', { timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  await page.getByLabel('A note for colleagues (it decides nothing)').fill('called the bank: ticket 4411');
  await page.getByRole('button', { name: 'Add the note' }).click();
  await expect(page.getByTestId('notes')).toContainText('ana');
  await expect(page.getByTestId('notes')).toContainText('called the bank: ticket 4411');

  const colleague = await (await browser.newContext()).newPage();
  await signIn(colleague, 'bo');
  await colleague.goto(`/orders/${orderId}`);
  await expect(colleague.getByTestId('notes')).toContainText('called the bank: ticket 4411');
});
