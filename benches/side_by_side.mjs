// Our queue page beside Temporal UI's list of the same waiting workflows, in Debian's
// Chromium: cold cache (a new browser context each load), RUNS loads of each, alternating.
// For each load: when the first row was in the page and painted, where that time went
// (the server's answer, the first paint), the bytes transferred and the requests made
// until the network was quiet. Prints medians and the ratios; asserts nothing.
//
// Run by `benches/pipeline.rs` (`make bench`) with:
//   OURS_URL      the queue page, e.g. http://127.0.0.1:3000/
//   OURS_COOKIE   the session cookie, name=value (signed in)
//   THEIRS_URL    Temporal UI's workflow list, filtered to the same workflows
//   RUNS          loads of each (7)
import { chromium } from 'playwright-core';

const ours = { name: 'ours', url: process.env.OURS_URL, row: 'tr[data-row] a[href^="/orders/"]' };
const theirs = {
  name: 'Temporal UI',
  url: process.env.THEIRS_URL,
  row: 'a[href*="/namespaces/default/workflows/"]',
};
const runs = Number(process.env.RUNS ?? 7);
const [cookieName, ...cookieValue] = (process.env.OURS_COOKIE ?? '').split('=');

// Records, from the first byte the page parses, when the first row is in the document.
const watchFirstRow = (selector) => {
  const seen = () => {
    if (window.__firstRow === undefined && document.querySelector(selector)) {
      window.__firstRow = performance.now();
    }
  };
  new MutationObserver(seen).observe(document, { childList: true, subtree: true });
  document.addEventListener('DOMContentLoaded', seen);
};

async function load(browser, side) {
  const context = await browser.newContext();
  if (side === ours && cookieName) {
    await context.addCookies([{ name: cookieName, value: cookieValue.join('='), url: ours.url }]);
  }
  await context.addInitScript(watchFirstRow, side.row);
  const page = await context.newPage();
  let bytes = 0;
  let requests = 0;
  const sizes = [];
  page.on('requestfinished', (request) => {
    requests += 1;
    sizes.push(request.sizes().then((s) => { bytes += s.responseBodySize + s.responseHeadersSize; }, () => {}));
  });
  page.on('requestfailed', () => { requests += 1; });
  await page.goto(side.url, { waitUntil: 'commit', timeout: 60_000 });
  await page.waitForSelector(side.row, { state: 'visible', timeout: 60_000 });
  // Paint after the row: two animation frames.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const t = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const paint = fcp ? fcp.startTime : 0;
    return {
      firstRow: Math.max(window.__firstRow ?? 0, paint),
      response: nav ? nav.responseStart : 0,
      html: nav ? nav.responseEnd : 0,
      paint,
      domReady: nav ? nav.domContentLoadedEventEnd : 0,
    };
  });
  await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => {});
  await Promise.all(sizes);
  await context.close();
  return { ...t, bytes, requests };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const spread = (xs) => `${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run',
  ],
});
const results = new Map([[ours, []], [theirs, []]]);
// One load of each first, not counted: Chromium's own start-up is nobody's.
await load(browser, ours);
await load(browser, theirs);
for (let i = 0; i < runs; i += 1) {
  for (const side of i % 2 === 0 ? [ours, theirs] : [theirs, ours]) {
    results.get(side).push(await load(browser, side));
  }
}
await browser.close();

console.log(`side by side, cold cache, ${runs} loads each, alternating (medians; first row: range)`);
const summary = new Map();
for (const [side, rs] of results) {
  const m = (k) => median(rs.map((r) => r[k]));
  summary.set(side, { firstRow: m('firstRow'), bytes: m('bytes'), requests: m('requests') });
  console.log(
    `  ${side.name.padEnd(12)} first row ${Math.round(m('firstRow'))} ms (${spread(rs.map((r) => r.firstRow))}),`
      + ` first byte ${Math.round(m('response'))} ms, HTML ${Math.round(m('html'))} ms,`
      + ` first paint ${Math.round(m('paint'))} ms, DOM ready ${Math.round(m('domReady'))} ms;`
      + ` ${Math.round(m('bytes') / 1024)} KiB in ${m('requests')} requests`,
  );
}
const a = summary.get(ours);
const b = summary.get(theirs);
console.log(
  `  ratios ours / Temporal UI: first row ${(a.firstRow / b.firstRow).toFixed(2)} (target <= 0.10),`
    + ` bytes ${(a.bytes / b.bytes).toFixed(2)} (target <= 0.17), requests ${(a.requests / b.requests).toFixed(2)}`,
);
