// Our queue page beside Temporal UI's list of the same waiting workflows, in Debian's
// Chromium: cold cache (a new browser context each load), RUNS loads of each, alternating.
// For each load: when the first row was painted (Element Timing), where that time went
// (the server's answer, the row in the document, the first paint), the bytes transferred and the requests made
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
  // A link in a cell of the list: the page's "Start Workflow" button also links under
  // /workflows/ and is there long before any row.
  row: 'td a[href*="/namespaces/default/workflows/"]',
};
const runs = Number(process.env.RUNS ?? 7);
const [cookieName, ...cookieValue] = (process.env.OURS_COOKIE ?? '').split('=');

// Records when the first row was painted: the cell holding the row's link is marked for
// Chromium's Element Timing as soon as it is in the document, and its paint's time (render
// time, from the navigation's start) is taken from that entry. The page then says so on the
// console, which Playwright hears without running anything in the page: its own
// `waitForSelector` would inject its selector engine while the page loads (about 20 ms of
// the page's main thread on this machine, measured), and first-contentful-paint alone misses
// a row painted after a first paint of the page's frame.
const watchFirstRow = (selector) => {
  let marked = false;
  const mark = () => {
    const link = marked ? null : document.querySelector(selector);
    if (!link) return;
    marked = true;
    window.__rowInDocument = performance.now();
    // Text is timed on the block that holds it, not on the inline link.
    (link.closest('td, th, li, [role="cell"], [role="gridcell"]') ?? link.parentElement ?? link)
      .setAttribute('elementtiming', 'first-row');
  };
  new MutationObserver(mark).observe(document, { childList: true, subtree: true });
  document.addEventListener('DOMContentLoaded', mark);
  new PerformanceObserver((list, observer) => {
    const entry = list.getEntries().find((e) => e.identifier === 'first-row');
    if (!entry) return;
    observer.disconnect();
    window.__firstRow = entry.renderTime || entry.loadTime;
    console.debug('first-row-painted');
  }).observe({ type: 'element', buffered: true });
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
  const painted = page.waitForEvent('console', {
    predicate: (message) => message.text() === 'first-row-painted',
    timeout: 60_000,
  });
  await page.goto(side.url, { waitUntil: 'commit', timeout: 60_000 });
  await painted;
  const t = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    return {
      firstRow: window.__firstRow,
      inDocument: window.__rowInDocument,
      response: nav ? nav.responseStart : 0,
      html: nav ? nav.responseEnd : 0,
      paint: fcp ? fcp.startTime : 0,
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
      + ` row in the document ${Math.round(m('inDocument'))} ms,`
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
