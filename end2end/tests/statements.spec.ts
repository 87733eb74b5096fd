import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { signIn, submitAndAwait, uniqueId, shot } from './helpers';

const BIN = path.resolve(__dirname, '../../target/debug/temporal-playground');

/// An order with its money, through the real CLI.
function startPricedOrder(orderId: string, amount: string) {
  execFileSync(
    BIN,
    ['client', 'start', '-o', orderId, '--amount', amount, '--currency', 'MYR', '--config', path.resolve(__dirname, '..', 'e2e.toml')],
    { env: process.env, stdio: 'pipe' },
  );
}

/// A camt.053 with one booked credit per (order, amount), balances that add up.
function camt053(entries: [string, string][]): string {
  let sum = 0;
  const body = entries
    .map(([order, amount], i) => {
      sum += Math.round(Number(amount) * 100);
      return `<Ntry><Amt Ccy="MYR">${amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-12-01</Dt></BookgDt><AcctSvcrRef>E${i + 1}-${order}</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>${order}</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>`;
    })
    .join('');
  const closing = (100000 + sum) / 100;
  return `<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>E2E</MsgId></GrpHdr><Stmt><Id>STMT-E2E</Id><Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="MYR">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal><Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="MYR">${closing.toFixed(2)}</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal>${body}</Stmt></BkToCstmrStmt></Document>`;
}

test('support imports a statement, an approver approves it, and the lane shows the bank’s record', async ({ browser }) => {
  const orderId = uniqueId('down-stmt');
  startPricedOrder(orderId, '42.00');
  const support = await (await browser.newContext()).newPage();
  await signIn(support, 'ana');
  await expect(async () => {
    await support.goto(`/orders/${orderId}`);
    await expect(support.getByTestId('open-stage')).toHaveText('manual', { timeout: 1000 });
  }).toPass({ timeout: 60_000 });

  await support.goto('/statements');
  await support.getByLabel(/Statement file/).setInputFiles({
    name: 'statement.xml',
    mimeType: 'application/xml',
    buffer: Buffer.from(camt053([[orderId, '42.00'], ['ORD-NOBODY-E2E', '1.00']])),
  });
  await support.getByRole('button', { name: 'Import' }).click();
  await expect(support).toHaveURL(/\/statements\/statement-/);
  await expect(support.getByTestId('tally')).toContainText('1 matched');
  await expect(support.getByTestId('tally')).toContainText('1 unknown_order');
  await expect(support.getByTestId('standing')).toContainText('awaits a second person');
  await expect(support.getByRole('button', { name: /Approve/ })).toHaveCount(0);
  const review = support.url();
  await shot(support, 'statement-review');

  const approver = await (await browser.newContext()).newPage();
  await signIn(approver, 'cy');
  await approver.goto(review);
  await submitAndAwait(approver, approver.getByRole('button', { name: /Approve and settle/ }), 'approve_import');
  await expect(async () => {
    await approver.reload();
    await expect(approver.getByTestId('standing')).toContainText('approved by cy', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  // When, as the page writes its times (the exact second on hover), not a raw timestamp.
  await expect(approver.getByTestId('standing')).toContainText(/approved by cy \d{4}-\d\d-\d\d \d\d:\d\d UTC: /);

  await expect(async () => {
    await support.goto(`/orders/${orderId}`);
    await expect(support.getByTestId('evidence')).toContainText('STMT-E2E', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await expect(support.getByTestId('resolution')).toContainText('approved by cy');

  // The review counts what the orders settled, and marks the matched entry's row.
  await expect(async () => {
    await approver.goto(review);
    await expect(approver.getByTestId('standing')).toContainText('1 of 1 matched orders settled', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  const row = approver.locator('tr[data-outcome="matched"]');
  await expect(row).toHaveAttribute('data-settled', 'yes');
  await expect(row).toContainText('matched · settled');
});

test('an approver ticks an entry they doubt, says why, and the approval settles the rest', async ({ browser }) => {
  const [kept, doubted] = [uniqueId('down-keep'), uniqueId('down-doubt')];
  startPricedOrder(kept, '10.00');
  startPricedOrder(doubted, '11.00');
  const support = await (await browser.newContext()).newPage();
  await signIn(support, 'ana');
  await expect(async () => {
    for (const id of [kept, doubted]) {
      await support.goto(`/orders/${id}`);
      await expect(support.getByTestId('open-stage')).toHaveText('manual', { timeout: 1000 });
    }
  }).toPass({ timeout: 60_000 });
  await support.goto('/statements');
  await support.getByLabel(/Statement file/).setInputFiles({
    name: 'doubt.xml',
    mimeType: 'application/xml',
    buffer: Buffer.from(camt053([[kept, '10.00'], [doubted, '11.00']])),
  });
  await support.getByRole('button', { name: 'Import' }).click();
  await expect(support.getByTestId('tally')).toContainText('2 matched');
  // Support may not approve, so has no boxes to tick.
  await expect(support.getByRole('checkbox')).toHaveCount(0);
  const review = support.url();

  const approver = await (await browser.newContext()).newPage();
  await signIn(approver, 'cy');
  await approver.goto(review);
  await approver.getByLabel(`Leave out entry E2-${doubted}`).check();
  await approver.getByLabel('Why, if you leave entries out').fill('the customer says it paid another order');
  await submitAndAwait(approver, approver.getByRole('button', { name: /Approve and settle/ }), 'approve_import');
  await expect(async () => {
    await approver.goto(review);
    await expect(approver.getByTestId('standing')).toContainText('1 of 1 matched orders settled', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await expect(approver.getByTestId('standing')).toContainText(
    '1 entry left out by the approver, for a person: the customer says it paid another order',
  );
  await expect(approver.locator('tr', { hasText: `E2-${doubted}` })).toContainText('left out by the approver');
  await support.goto(`/orders/${doubted}`);
  await expect(support.getByTestId('open-stage')).toHaveText('manual');
});

test('a broken statement is refused with where it failed, and nothing is imported', async ({ page }) => {
  await signIn(page, 'ana');
  await page.goto('/statements');
  await page.getByLabel(/Statement file/).setInputFiles({
    name: 'broken.xml',
    mimeType: 'application/xml',
    buffer: Buffer.from(camt053([['ORD-X', '1.00']]).replace('</Ntry>', '</Oops>')),
  });
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByTestId('import-refused')).toContainText('line 1, column');
});
