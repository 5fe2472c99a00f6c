import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { EMULATOR, INTERNAL_URL, PASSWORD, PROJECT_ID, SUPER_ADMIN_EMAIL, say, superAdmin } from '../lib/env.mjs';
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

/**
 * Opens the control-center page at `origin`; answers what the page's own script saw, and the console.
 * @returns {Promise<{ result: import('../browser/app.mjs').SignInResult, console: string[] }>}
 */
async function openPage(origin) {
    const page = await browser.newPage();
    /** @type {string[]} */
    const console = [];
    page.on('console', (m) => console.push(m.text()));
    /** @type {string[]} */
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
        assert.ok(result);
        assert.deepEqual(offMachine, [], 'the page loaded nothing from off this machine');
        return { result, console };
    } finally {
        await page.close();
    }
}

/** Logs what the page saw, and fails the test when its script failed. */
function report(flow, /** @type {import('../browser/app.mjs').SignInResult} */ result) {
    if ('failed' in result) assert.fail(`page script failed: ${result.failed}`);
    say(flow, `page ${result.origin}: signed in as uid ${result.uid}`);
    const { verify, mitras } = result;
    const who = 'data' in verify && verify.data ? ` ${verify.data.data.email}, role ${verify.data.data.role.name}` : '';
    const total = 'data' in mitras && mitras.data ? `, total ${mitras.data.data.total}` : '';
    say(flow, `POST /internal/auth/verify -> ${show(verify)}${who}; GET /internal/mitras -> ${show(mitras)}${total}`);
    return result;
}

/** @param {{ blocked: string } | { status: number, requestId: string | null }} r */
const show = (r) => ('blocked' in r ? r.blocked : `${r.status} (x-request-id ${r.requestId ? 'readable' : 'not readable'})`);

/** What the browser said when it refused a call, or '' when it did not. */
const blocked = (/** @type {object} */ r) => ('blocked' in r ? String(r.blocked) : '');

/** The API's answer to a CORS preflight from `origin`: a raw request, as the browser sends it. */
const preflight = (/** @type {string} */ origin) =>
    fetch(`${INTERNAL_URL}/internal/auth/verify`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
        signal: AbortSignal.timeout(10_000),
    });

test(`the control-center page on an allowed origin signs in through the emulator and calls the API`, async () => {
    const flow = 'browser, allowed origin';
    const page = await openPage(ALLOWED);
    const { verify, mitras } = report(flow, page.result);
    if ('blocked' in verify || 'blocked' in mitras) assert.fail(JSON.stringify(page));
    assert.equal(verify.status, 200, JSON.stringify(page));
    assert.equal(verify.data?.data.email, SUPER_ADMIN_EMAIL);
    assert.ok(verify.requestId, 'x-request-id is exposed to the page');
    assert.equal(mitras.status, 200, JSON.stringify(mitras));
    assert.ok(Array.isArray(mitras.data?.data.items), JSON.stringify(mitras));
});

test(`the same page on an origin not allowed is blocked by the browser`, async () => {
    const flow = 'browser, other origin';
    const { result, console } = await openPage(OTHER);
    const { verify, mitras } = report(flow, result);
    const cors = console.filter((line) => line.includes('CORS'));
    if (cors.length) say(flow, `console: ${cors[0]}`);
    assert.match(blocked(verify), /^TypeError/, 'the browser refused the verify call');
    assert.match(blocked(mitras), /^TypeError/, 'the browser refused the mitras call');
    // The browser would also refuse against an API with no CORS at all, so the API's own
    // answer to this origin's preflight shows the refusal comes from the allow-list.
    const refused = await preflight(OTHER);
    say(flow, `OPTIONS /internal/auth/verify from ${OTHER} -> ${refused.status}, access-control-allow-origin ${refused.headers.get('access-control-allow-origin')}`);
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
    const allowed = await preflight(ALLOWED);
    say(flow, `OPTIONS /internal/auth/verify from ${ALLOWED} -> ${allowed.status}, access-control-allow-origin ${allowed.headers.get('access-control-allow-origin')}`);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), ALLOWED);
});
