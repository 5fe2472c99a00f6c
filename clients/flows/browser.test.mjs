import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { EMULATOR, INTERNAL_URL, PASSWORD, PROJECT_ID, SUPER_ADMIN_EMAIL, call, say, superAdmin } from '../lib/env.mjs';
import { servePage } from '../lib/static.mjs';

// CORS_ALLOWED_ORIGINS of the API under test lists the first origin and not the second.
const ALLOWED_PORT = Number(process.env.CLIENTS_PAGE_PORT ?? 5173);
const OTHER_PORT = Number(process.env.CLIENTS_OTHER_PAGE_PORT ?? 5174);
const ALLOWED = `http://localhost:${ALLOWED_PORT}`;
const OTHER = `http://127.0.0.1:${OTHER_PORT}`;
const CHROMIUM =
    process.env.CHROMIUM ?? ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((path) => existsSync(path));

let browser;
let closePages;

before(async () => {
    await superAdmin(); // the page signs in as this control-center user
    closePages = await servePage([ALLOWED_PORT, OTHER_PORT]);
    // Root (as on CI) cannot use Chromium's sandbox; the page is our own.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 30_000 });
    say('browser', `${CHROMIUM}: Chromium ${browser.version()}`);
});

after(async () => {
    await browser?.close();
    await closePages?.();
});

/** Opens the control-center page at `origin`; answers what the page's own script saw, and the console. */
async function openPage(origin) {
    const page = await browser.newPage();
    const console = [];
    page.on('console', (m) => console.push(m.text()));
    const offMachine = [];
    // Everything the page loads must come from this machine: the SDK is served locally, no CDN.
    await page.route('**/*', (route) => {
        const { hostname } = new URL(route.request().url());
        if (hostname === 'localhost' || hostname === '127.0.0.1') return route.continue();
        offMachine.push(route.request().url());
        return route.abort();
    });
    const query = new URLSearchParams({
        api: INTERNAL_URL,
        emulator: EMULATOR,
        project: PROJECT_ID,
        email: SUPER_ADMIN_EMAIL,
        password: PASSWORD,
    });
    try {
        await page.goto(`${origin}/?${query}`, { timeout: 15_000 });
        await page.waitForFunction(() => window.signInResult, null, { timeout: 20_000 });
        const result = await page.evaluate(() => window.signInResult);
        assert.deepEqual(offMachine, [], 'the page loaded nothing from off this machine');
        return { result, console };
    } finally {
        await page.close();
    }
}

function report(flow, result) {
    if (result.failed) return say(flow, `page script failed: ${result.failed}`);
    say(flow, `page ${result.origin}: signed in as uid ${result.uid}`);
    const { verify, mitras } = result;
    const who = verify.body?.data ? ` ${verify.body.data.email}, role ${verify.body.data.role?.name}` : '';
    const total = mitras.body?.data ? `, total ${mitras.body.data.total}` : '';
    say(flow, `fetch POST /internal/auth/verify -> ${show(verify)}${who}; GET /internal/mitras -> ${show(mitras)}${total}`);
}

const show = (r) => (r.error ? r.error : `${r.status} (x-request-id ${r.requestId ? 'readable' : 'not readable'})`);

test(`the control-center page on an allowed origin signs in through the emulator and calls the API`, async () => {
    const flow = 'browser, allowed origin';
    const { result, console } = await openPage(ALLOWED);
    report(flow, result);
    assert.equal(result.failed, undefined, result.failed);
    assert.equal(result.verify.status, 200, JSON.stringify({ result, console }));
    assert.equal(result.verify.body.data.email, SUPER_ADMIN_EMAIL);
    assert.ok(result.verify.requestId, 'x-request-id is exposed to the page');
    assert.equal(result.mitras.status, 200, JSON.stringify(result.mitras));
    assert.ok(Array.isArray(result.mitras.body.data.items), JSON.stringify(result.mitras.body));
});

test(`the same page on an origin not allowed is blocked by the browser`, async () => {
    const flow = 'browser, other origin';
    const { result, console } = await openPage(OTHER);
    report(flow, result);
    const cors = console.filter((line) => line.includes('CORS'));
    if (cors.length) say(flow, `console: ${cors[0]}`);
    assert.equal(result.failed, undefined, result.failed);
    assert.match(result.verify.error ?? '', /^TypeError/, 'the browser refused the verify call');
    assert.match(result.mitras.error ?? '', /^TypeError/, 'the browser refused the mitras call');
    // The browser would also refuse against an API with no CORS at all, so the API's own
    // answer to this origin's preflight shows the refusal comes from the allow-list.
    const preflight = await call('OPTIONS', `${INTERNAL_URL}/internal/auth/verify`, {
        headers: { origin: OTHER, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    say(flow, `OPTIONS /internal/auth/verify from ${OTHER} -> ${preflight.status}, access-control-allow-origin ${preflight.headers.get('access-control-allow-origin')}`);
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    const allowed = await call('OPTIONS', `${INTERNAL_URL}/internal/auth/verify`, {
        headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    say(flow, `OPTIONS /internal/auth/verify from ${ALLOWED} -> ${allowed.status}, access-control-allow-origin ${allowed.headers.get('access-control-allow-origin')}`);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), ALLOWED);
});
