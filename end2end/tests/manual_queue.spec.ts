import { test, expect } from '@playwright/test';
import { formLive, keysReady, signIn, startOrder, uniqueId, shot } from './helpers';
import { PASSWORD } from './accounts';

test('an order that keeps failing upstream reaches the queue, is claimed, refused to a second agent, proposed paid and approved by a second person', async ({ browser }) => {
  const orderId = uniqueId('down-e2e');
  startOrder(orderId);

  const ana = await (await browser.newContext()).newPage();
  await signIn(ana, 'ana');
  await expect(async () => {
    await ana.goto('/');
    await expect(ana.locator(`tr[data-order="${orderId}"]`)).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  await expect(ana.locator(`tr[data-order="${orderId}"]`)).toContainText('http_503');
  await shot(ana, 'manual-queue');

  await ana.locator(`tr[data-order="${orderId}"] a`).click();
  await expect(ana.getByTestId('open-stage')).toHaveText('manual');
  await ana.getByRole('button', { name: 'Claim' }).click();
  await expect(ana.getByTestId('claimed-by')).toContainText('ana (claimed');

  const bo = await (await browser.newContext()).newPage();
  await signIn(bo, 'bo');
  await bo.goto(`/orders/${orderId}`);
  await bo.getByRole('button', { name: 'Claim' }).click();
  await expect(bo.getByTestId('action-error')).toContainText('already claimed by ana');

  // Bo keeps the form open while Ana resolves.
  await ana.getByLabel('Resolution').selectOption('paid');
  await ana.getByLabel('Reason code').fill('BANK_CONFIRMED');
  await ana.getByLabel('Note', { exact: true }).fill('confirmed by phone <b>not bold</b>');
  await shot(ana, 'order-lane');
  await ana.getByRole('button', { name: 'Resolve' }).click();
  // Paid against the bank's silence: a proposal until a second person approves it.
  await expect(ana.getByTestId('proposal')).toContainText('ana proposed paid');
  // When, as the rest of the lane says it (the exact time on hover), not a raw timestamp.
  await expect(ana.getByTestId('proposal')).toContainText(/proposed paid \(BANK_CONFIRMED\) \d+ (s|min) ago/);
  await expect(ana.getByRole('button', { name: 'Approve' })).toHaveCount(0);
  await ana.goto('/?claim=awaiting');
  await expect(ana.locator(`tr[data-order="${orderId}"]`)).toContainText('awaiting approval');

  const cy = await (await browser.newContext()).newPage();
  await signIn(cy, 'cy');
  await cy.goto(`/orders/${orderId}`);
  await expect(cy.getByRole('button', { name: 'Claim' })).toHaveCount(0);
  await cy.getByRole('button', { name: 'Approve' }).click();
  await ana.goto(`/orders/${orderId}`);
  await expect(async () => {
    await ana.reload();
    await expect(ana.getByTestId('resolution')).toContainText('paid', { timeout: 1000 });
    // Resolved once the conclusion has reached the upstream and the workflow closed.
    await expect(ana.getByTestId('open-stage')).toHaveText('resolved', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await expect(ana.getByTestId('resolution')).toContainText('by ana');
  await expect(ana.getByTestId('resolution')).toContainText(/approved by cy \d+ (s|min) ago/);
  // User text is escaped, never markup.
  await expect(ana.getByTestId('resolution')).toContainText('<b>not bold</b>');
  await expect(ana.getByTestId('open-stage')).toHaveText('resolved');
  await shot(ana, 'order-lane-resolved');

  await formLive(bo, 'Resolve');
  // Nothing is chosen for a person: paid, the first, settles money.
  await expect(bo.getByLabel('Resolution')).toHaveValue('');
  await bo.getByLabel('Resolution').selectOption('failed');
  await bo.getByLabel('Reason code').fill('DUPLICATE');
  await bo.getByLabel('Note', { exact: true }).fill('customer called twice');
  await bo.getByRole('button', { name: 'Resolve' }).click();
  await expect(bo.getByTestId('action-error').filter({ hasText: 'already resolved' })).toContainText(
    /already resolved by ana at \S+ as paid/,
  );
  // The refusal keeps what Bo typed.
  await expect(bo.getByLabel('Note', { exact: true })).toHaveValue('customer called twice');
});

test('the queue page renders without JavaScript', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, 'ana');
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Manual queue' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Claim filter' })).toContainText('Unclaimed');
  await expect(page.locator('[data-testid="manual-queue"], [data-testid="queue-empty"]').first()).toBeVisible();
  await page.getByLabel('Error reason').fill('http_503');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/reason=http_503/);
  await expect(page.getByRole('heading', { name: 'Manual queue' })).toBeVisible();
});

test('a bad filter is explained, not a blank page', async ({ page }) => {
  await signIn(page, 'ana');
  await page.goto('/?age=ancient');
  await expect(page.getByTestId('error-banner')).toContainText('is not an age filter');
  // A quote is escaped into the query, never read as its syntax: it matches no order.
  await page.goto('/?prefix=%27%20OR%201%3D1');
  await expect(page.getByTestId('queue-empty')).toBeVisible();
});

test('the queue fits a narrow screen and its controls are reachable by keyboard', async ({ page }) => {
  await signIn(page, 'ana');
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto('/');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(1);
  // First the skip link, then the header's first link.
  await page.keyboard.press('Tab');
  await expect(page.locator(':focus')).toHaveAttribute('href', '#content');
  await page.keyboard.press('Tab');
  await expect(page.locator(':focus')).toHaveAttribute('href', '/');
  await page.getByLabel('Order id starts with').focus();
  await page.keyboard.type('ORD');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/prefix=ORD/);
});

test('ages read as people say them, with the time in the viewer\'s own time zone on hover', async ({ browser }) => {
  const orderId = uniqueId('down-tz');
  startOrder(orderId);
  const page = await (await browser.newContext({ timezoneId: 'America/New_York', locale: 'en-US' })).newPage();
  await signIn(page, 'ana');
  await expect(async () => {
    await page.goto('/');
    await expect(page.locator(`tr[data-order="${orderId}"]`)).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  const age = page.locator(`tr[data-order="${orderId}"] [data-testid="age"] time`);
  await expect(age).toHaveText(/^\d+ (s|min)$/);
  await expect(age).toHaveAttribute('data-local', 'yes');
  // November in New York: Eastern Standard Time, whatever the server's zone.
  await expect(age).toHaveAttribute('title', /EST|GMT-5/);
  await expect(page.locator(`tr[data-order="${orderId}"] [data-testid="age"]`)).toContainText('within service level');
  await page.locator(`tr[data-order="${orderId}"] a`).click();
  await expect(page.getByTestId('waiting').locator('time')).toHaveAttribute('title', /EST|GMT-5/);
});

test('a refusal answers 4xx with its sentence, not a server error', async ({ page }) => {
  await page.goto('/login');
  const action = await page.locator('form[aria-label="Sign in"]').getAttribute('action');
  const response = await page.request.post(action!, {
    form: { name: 'system', password: 'whatever it is' },
    headers: { origin: new URL(page.url()).origin },
  });
  expect(response.status()).toBe(422);
  expect(await response.text()).toContain('reserved for the upstream');
  const long = await page.request.post(action!, {
    form: { name: 'x'.repeat(10_000), password: 'p' },
    headers: { origin: new URL(page.url()).origin },
  });
  expect(long.status()).toBe(422);
  expect((await long.text()).length).toBeLessThan(1000);
});

test('support works an order from the keyboard: move, open, claim, resolve', async ({ page }) => {
  const orderId = uniqueId('down-keys');
  startOrder(orderId);
  await signIn(page, 'bo');
  await expect(async () => {
    await page.goto(`/?prefix=${orderId}`);
    await expect(page.locator(`tr[data-order="${orderId}"]`)).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  await expect(page.getByTestId('keys')).toContainText('j / k');
  await keysReady(page);
  await page.locator('body').click({ position: { x: 1, y: 1 } });
  await page.keyboard.press('j');
  await expect(page.locator(`tr[data-order="${orderId}"] a`)).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('order-id')).toHaveText(orderId);
  // The lane says how the order's upstream has been answering this server's workers.
  await expect(page.getByTestId('lane-upstream')).toContainText(/\/s, \d+ answered, \d+ throttled \(429\), [1-9]\d* 5xx/);
  await expect(page.getByTestId('keys')).toContainText('c claim');
  await expect(page.getByRole('button', { name: 'Claim' })).toBeVisible();
  await keysReady(page);
  await page.keyboard.press('c');
  await expect(page.getByTestId('claimed-by')).toContainText('bo (claimed');
  // The claim posted as a form and the lane came back: its keys listen again.
  await keysReady(page);
  await page.keyboard.press('r');
  await expect(page.getByLabel('Resolution')).toBeFocused();
  await page.getByLabel('Resolution').selectOption('failed');
  await page.keyboard.press('Tab');
  await page.keyboard.type('BANK_CONFIRMED');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('resolution')).toContainText('failed', { timeout: 30_000 });
  await keysReady(page);
  await page.keyboard.press('q');
  await expect(page.getByRole('heading', { name: 'Manual queue' })).toBeVisible();
  // A merchant asks about it later: "/" finds it from the header by its id.
  await keysReady(page);
  await page.keyboard.press('/');
  await expect(page.getByLabel('Find an order by its id or reference')).toBeFocused();
  await page.keyboard.type(orderId);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('order-id')).toHaveText(orderId);
  await expect(page.getByTestId('resolution')).toContainText('failed by bo');
});

test('a cold load of the queue page transfers its assets compressed', async ({ browser }) => {
  // Signed in without loading a page, so the page load below starts from an empty cache.
  const context = await browser.newContext();
  const login = await (await context.request.get('/login')).text();
  const action = login.match(/action="([^"]*sign_in[^"]*)"/)![1].replace(/&amp;/g, '&');
  const signedIn = await context.request.post(action, {
    form: { name: 'ana', password: PASSWORD, next: '/' },
    headers: { origin: process.env.E2E_BASE_URL ?? 'http://127.0.0.1:3100' },
    maxRedirects: 0,
  });
  expect(signedIn.status()).toBeLessThan(400);
  const page = await context.newPage();
  const assets: { url: string; encoding: string; cache: string; sent: number; size: number }[] = [];
  page.on('response', async (response) => {
    if (!response.url().includes('/pkg/')) return;
    const sizes = await response.request().sizes();
    const body = await response.body().catch(() => Buffer.alloc(0));
    const headers = await response.allHeaders();
    assets.push({
      url: response.url(),
      encoding: headers['content-encoding'] ?? '',
      cache: headers['cache-control'] ?? '',
      sent: sizes.responseBodySize,
      size: body.length,
    });
  });
  const document = await page.goto('/');
  expect(['br', 'gzip']).toContain((await document!.allHeaders())['content-encoding']);
  await expect(page.getByRole('heading', { name: 'Manual queue' })).toBeVisible();
  await expect.poll(() => assets.some((a) => a.url.endsWith('.wasm'))).toBe(true);
  for (const asset of assets) {
    expect(['br', 'gzip'], asset.url).toContain(asset.encoding);
    // Names carry the content's hash, so the browser keeps them without asking again.
    expect(asset.url).toMatch(/\/pkg\/(temporal-playground|split_\w+|chunk_\d+|__wasm_split)\.[\w-]+\.(wasm|js|css)$/);
    expect(asset.cache, asset.url).toContain('immutable');
  }
  // The queue's own islands (keys, local times) are in the page's WASM; the lazy islands
  // of other pages (the forms, the live page) are not fetched here.
  expect(assets.filter((a) => /\/(split_|chunk_)/.test(a.url)), 'no lazy island fetched').toEqual([]);
  const wasm = assets.find((a) => /temporal-playground\.[\w-]+\.wasm$/.test(a.url))!;
  expect(wasm.sent).toBeLessThan(wasm.size / 2);
  console.log(`queue page assets: ${assets.map((a) => `${a.url.split('/').pop()} ${a.sent} of ${a.size} bytes (${a.encoding})`).join(', ')}`);
});
