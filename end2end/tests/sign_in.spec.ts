import { test, expect } from '@playwright/test';
import { signIn, startOrder, uniqueId } from './helpers';

test('a visitor signs in, is refused a wrong password, and signs out', async ({ page }) => {
  await page.goto('/stale');
  await expect(page).toHaveURL(/\/login\?next=%2Fstale/);
  await page.getByLabel('Name').fill('ana');
  await page.getByLabel('Password').fill('not her password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('action-error')).toContainText('do not match an account');
  await signIn(page, 'ana');
  await expect(page.getByTestId('signed-in')).toContainText('support');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login/);
});

test('the tab shows the console\'s icon, from inside the page, before and after signing in', async ({ page }) => {
  // Without an icon named in the page, a browser asks for /favicon.ico on every cold tab,
  // which fails: a broken request and an error in the console, and no icon on the tab.
  const drawn = async () => page.evaluate(async () => {
    const link = document.querySelector<HTMLLinkElement>('head link[rel="icon"]');
    if (!link) return 'no icon named';
    if (!link.href.startsWith('data:')) return `asks the server: ${link.href}`;
    const img = new Image();
    img.src = link.href;
    try {
      await img.decode();
    } catch {
      return 'not an image';
    }
    return `${img.naturalWidth}x${img.naturalHeight}`;
  });
  await page.goto('/login');
  expect(await drawn()).toBe('16x16');
  await signIn(page, 'ana');
  await page.goto('/stale');
  expect(await drawn()).toBe('16x16');
});

test('a session whose cookie is gone sends the person back to sign in', async ({ page }) => {
  await signIn(page, 'ana');
  await page.context().clearCookies();
  await page.goto('/live');
  await expect(page).toHaveURL(/\/login\?next=%2Flive/);
});

test('support sees no contract controls and finance no order controls', async ({ browser }) => {
  const support = await (await browser.newContext()).newPage();
  await signIn(support, 'ana');
  await support.goto('/contracts');
  await expect(support.getByRole('heading', { name: /contracts/i }).first()).toBeVisible();
  await expect(support.getByRole('button', { name: 'Create' })).toHaveCount(0);

  const orderId = uniqueId('down-roles');
  startOrder(orderId);
  const finance = await (await browser.newContext()).newPage();
  await signIn(finance, 'fin');
  await expect(async () => {
    await finance.goto(`/orders/${orderId}`);
    await expect(finance.getByTestId('open-stage')).toHaveText('manual', { timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  await expect(finance.getByRole('button', { name: 'Claim' })).toHaveCount(0);
  await expect(finance.getByRole('button', { name: 'Resolve' })).toHaveCount(0);
});

test('a proposer who is also an approver cannot approve their own proposal', async ({ page }) => {
  const orderId = uniqueId('down-own');
  startOrder(orderId);
  await signIn(page, 'dee');
  await expect(async () => {
    await page.goto(`/orders/${orderId}`);
    await expect(page.getByTestId('open-stage')).toHaveText('manual', { timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  await page.getByLabel('Resolution').selectOption('refunded');
  await page.getByLabel('Reason code').fill('CUSTOMER_REFUND');
  await page.getByRole('button', { name: 'Resolve' }).click();
  await expect(page.getByTestId('proposal')).toContainText('dee proposed refunded');
  await page.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByTestId('action-error')).toContainText('a second person must approve');
  await page.getByLabel('Why not').fill('changed my mind');
  await page.getByRole('button', { name: 'Reject' }).click();
  await expect(page.getByTestId('action-error').last()).toContainText('a second person');
});

test('without JavaScript a refused sign-in comes back to the form with its sentence', async ({ browser }) => {
  // As on a slow link before the page is live, or with JavaScript off: plain form posts.
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('Name').fill('ana');
  await page.getByLabel('Password').fill('not her password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('action-error')).toContainText('do not match an account');
  await expect(page.getByLabel('Password')).toBeVisible();
  await context.close();
});
