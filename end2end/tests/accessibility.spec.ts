// Accessibility: axe-core checks every page with data, signed in as each role, against
// WCAG 2.1 A and AA, and no request of those pages fails and nothing goes to the console as
// an error; the keyboard works the queue, the lane and the statement review.
import { test, expect, Page, Browser } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { keysReady, signIn, startOrder, uniqueId } from './helpers';

const BIN = path.resolve(__dirname, '../../target/debug/temporal-playground');
const CONFIG = path.resolve(__dirname, '..', 'e2e.toml');
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

function cli(args: string[]) {
  return execFileSync(BIN, [...args, '--config', CONFIG], { env: process.env, stdio: 'pipe' }).toString();
}

/// Violations on the page as it stands, each with the rule, its impact and where.
async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  return results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`,
  );
}

/// What the pages show: an order in the manual queue with money, one awaiting approval, a
/// stale order, a dropped one, a contract, a statement import waiting for its approver.
async function data(browser: Browser) {
  const manual = uniqueId('down-a11y');
  const proposed = uniqueId('down-a11yp');
  const stale = uniqueId('flaky1-a11y');
  const large = uniqueId('down-a11yl');
  const dropped = uniqueId('down-a11yd');
  cli(['client', 'start', '-o', manual, '--amount', '12.50', '--currency', 'MYR']);
  cli(['client', 'start', '-o', dropped]);
  cli(['client', 'start', '-o', large, '--amount', '25000.00', '--currency', 'MYR']);
  startOrder(proposed);
  startOrder(stale, 'e2e-stale.toml');
  const page = await (await browser.newContext()).newPage();
  await signIn(page, 'ana');
  for (const id of [manual, proposed, large, dropped]) {
    await expect(async () => {
      await page.goto(`/orders/${id}`);
      await expect(page.getByTestId('open-stage')).toHaveText('manual', { timeout: 1000 });
    }).toPass({ timeout: 60_000 });
  }
  // One order's run is terminated from Temporal's CLI: it is listed as dropped.
  execFileSync('temporal', ['workflow', 'terminate', '-w', `manual-${dropped}`, '--reason', 'a11y check'],
    { env: process.env, stdio: 'pipe' });
  await expect(async () => {
    await page.goto('/dropped');
    await expect(page.locator(`tr[data-order="${dropped}"]`)).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  // A large order is marked so in the queue, with the rule that makes it so.
  await page.goto(`/?prefix=${large}`);
  await expect(page.locator(`tr[data-order="${large}"]`).getByTestId('large')).toHaveText('large');
  await expect(page.getByTestId('large-rule')).toContainText('Large orders (20,000.00 MYR or more) are at risk after 10 min');
  await page.goto(`/orders/${proposed}`);
  await page.getByRole('button', { name: 'Claim' }).click();
  await expect(page.getByTestId('claimed-by')).toContainText('ana');
  await page.getByLabel('Resolution').selectOption('paid');
  await page.getByLabel('Reason code').fill('BANK_CONFIRMED');
  await page.getByRole('button', { name: 'Resolve' }).click();
  await expect(page.getByTestId('proposal')).toContainText('ana proposed paid');
  await expect(async () => {
    await page.goto('/stale');
    await expect(page.locator(`tr[data-order="${stale}"]`)).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 60_000 });

  const contract = uniqueId('C-a11y');
  const fin = await (await browser.newContext()).newPage();
  await signIn(fin, 'fin');
  await fin.goto('/contracts');
  await fin.getByLabel('Contract id').fill(contract);
  await fin.getByLabel('Customer').fill('ana');
  await fin.getByLabel('Terms (0 = until cancelled)').fill('3');
  await fin.getByLabel('Every').fill('30d');
  await fin.getByRole('button', { name: 'Create' }).click();
  await expect(fin.getByTestId('created')).toContainText('Next charges');

  await page.goto('/statements');
  const xml = `<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>A11Y</MsgId></GrpHdr><Stmt><Id>STMT-${manual}</Id><Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="MYR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal><Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="MYR">112.50</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal><Ntry><Amt Ccy="MYR">12.50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-12-01</Dt></BookgDt><AcctSvcrRef>E1</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>${manual}</EndToEndId></Refs></TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>`;
  await page.getByLabel(/Statement file/).setInputFiles({ name: 'a11y.xml', mimeType: 'application/xml', buffer: Buffer.from(xml) });
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page).toHaveURL(/\/statements\/statement-/);
  const review = new URL(page.url()).pathname;
  return { manual, proposed, stale, contract, review };
}

/// What went wrong on a page as it loaded: answers of 400 or more (the page's own resources,
/// its server functions, the browser's own asks such as a tab icon) and console errors.
function watchFailures(page: Page, found: string[], who: string) {
  page.on('response', (r) => {
    if (r.status() >= 400) found.push(`${new URL(page.url()).pathname} as ${who}: ${r.status()} for ${r.url()}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') found.push(`${new URL(page.url()).pathname} as ${who}: console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => found.push(`${new URL(page.url()).pathname} as ${who}: uncaught: ${e.message}`));
}

test('every page with data has no WCAG 2.1 A or AA violation, no failed request and no console error, for each role', async ({ browser }) => {
  test.setTimeout(300_000);
  const d = await data(browser);
  const everyone = ['/', '/?claim=awaiting', '/stale', `/orders/${d.manual}`, `/orders/${d.proposed}`, `/orders/${d.stale}`,
    '/dropped', '/contracts', `/contracts/${d.contract}`, '/charges', '/live', '/statements', d.review];
  const pages: Record<string, string[]> = {
    ana: everyone, // support
    cy: everyone, // approver: the approve and reject forms
    fin: [...everyone, '/audit'], // finance
    pat: everyone, // presenter: the live page's simulation
    root: [...everyone, '/audit'], // admin: everything, take-over
  };
  const found: string[] = [];
  const anonymous = await (await browser.newContext()).newPage();
  watchFailures(anonymous, found, 'nobody');
  await anonymous.goto('/login');
  await expect(anonymous.getByRole('button', { name: 'Sign in' })).toBeVisible();
  found.push(...(await violations(anonymous)).map((v) => `/login (signed out): ${v}`));
  // The roles side by side, each in its own browser context (each page waits for the
  // network to go quiet, which is mostly idle time); the findings in a fixed order.
  const byRole = await Promise.all(Object.entries(pages).map(async ([person, paths]) => {
    const page = await (await browser.newContext()).newPage();
    const mine: string[] = [];
    watchFailures(page, mine, person);
    await signIn(page, person);
    for (const p of paths) {
      await page.goto(p);
      await expect(page.locator('main h1').first()).toBeVisible();
      // The page hydrated (what a person sees once it is live).
      await page.waitForLoadState('networkidle').catch(() => undefined);
      mine.push(...(await violations(page)).map((v) => `${p} as ${person}: ${v}`));
    }
    return mine;
  }));
  found.push(...byRole.flat());
  expect(found, found.join('\n')).toEqual([]);
});

test('the queue, the lane and the statement review work from the keyboard, in a sensible order', async ({ browser }) => {
  test.setTimeout(180_000);
  const d = await data(browser);
  const page = await (await browser.newContext()).newPage();
  await signIn(page, 'root');

  // The queue: Tab reaches the skip link first, which lands on the page's content; the
  // filters come before the claim tabs, the tabs before the rows.
  await page.goto('/');
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  const order: string[] = [];
  for (let i = 0; i < 40 && order.length < 40; i++) {
    await page.keyboard.press('Tab');
    const name = await page.evaluate(() => {
      const e = document.activeElement as HTMLElement | null;
      if (!e) return '';
      const label = e.getAttribute('aria-label') || (e as HTMLInputElement).labels?.[0]?.textContent || e.textContent || '';
      return `${e.tagName.toLowerCase()}:${label.trim().replace(/\s+/g, ' ').slice(0, 40)}`;
    });
    order.push(name);
  }
  const at = (re: RegExp) => order.findIndex((n) => re.test(n));
  expect(at(/^input:Order id/), order.join(' | ')).toBeGreaterThanOrEqual(0);
  expect(at(/^button:Filter/)).toBeGreaterThan(at(/^input:Order id/));
  expect(at(/^a:All/)).toBeGreaterThan(at(/^button:Filter/));
  expect(at(/^a:(down|flaky)/)).toBeGreaterThan(at(/^a:All/));
  // j moves to a row, Enter opens its lane.
  await page.goto(`/?prefix=${d.manual}`);
  await expect(page.locator(`tr[data-order="${d.manual}"]`)).toBeVisible();
  await keysReady(page);
  await page.keyboard.press('j');
  await expect(page.locator(`tr[data-order="${d.manual}"] a`)).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/orders/${d.manual}`));

  // The lane: c claims, focus is visible on what the keys act on, r goes to the resolution.
  await expect(page.getByTestId('open-stage')).toHaveText('manual');
  await keysReady(page);
  await page.keyboard.press('c');
  await expect(page.getByTestId('claimed-by')).toContainText('root');
  await keysReady(page);
  await page.keyboard.press('r');
  await expect(page.getByLabel('Resolution')).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Reason code')).toBeFocused();

  // The statement review: an approver reaches the decision by Tab, and the focused
  // control shows it has focus.
  const cy = await (await browser.newContext()).newPage();
  await signIn(cy, 'cy');
  await cy.goto(d.review);
  const approve = cy.getByRole('button', { name: /Approve and settle/ });
  await expect(approve).toBeVisible();
  let reached = false;
  for (let i = 0; i < 30 && !reached; i++) {
    await cy.keyboard.press('Tab');
    reached = await approve.evaluate((b) => b === document.activeElement);
  }
  expect(reached, 'Tab reaches "Approve and settle"').toBe(true);
  const outline = await approve.evaluate((b) => {
    const s = getComputedStyle(b);
    return `${s.outlineStyle} ${s.outlineWidth} ${s.boxShadow}`;
  });
  expect(outline).not.toMatch(/^none 0px none$/);
});
