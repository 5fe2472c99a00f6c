// A tiny static server for the browser check: the page, its script, the typed API client and
// the browser builds of the Firebase SDK and openapi-fetch from the installed npm packages.
// One server, several ports (= origins).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const firebaseDir = dirname(createRequire(import.meta.url).resolve('firebase/package.json'));
const version = JSON.parse(readFileSync(join(firebaseDir, 'package.json'), 'utf8')).version;

const openapiFetch = dirname(createRequire(import.meta.url).resolve('openapi-fetch'));

/** @type {Record<string, [string, () => string | Buffer]>} */
const files = {
    '/': ['text/html', () => readFileSync(join(here, '../browser/page.html'), 'utf8').replace('__VERSION__', version)],
    '/app.mjs': ['text/javascript', () => readFileSync(join(here, '../browser/app.mjs'))],
    '/lib/api.mjs': ['text/javascript', () => readFileSync(join(here, 'api.mjs'))],
    '/openapi-fetch/index.mjs': ['text/javascript', () => readFileSync(join(openapiFetch, 'index.mjs'))],
    '/firebase/firebase-app.js': ['text/javascript', () => readFileSync(join(firebaseDir, 'firebase-app.js'))],
    '/firebase/firebase-auth.js': ['text/javascript', () => readFileSync(join(firebaseDir, 'firebase-auth.js'))],
};

/** Serves the page on 127.0.0.1 at each port; resolves to a function that closes them all. */
export async function servePage(ports) {
    const servers = await Promise.all(
        ports.map(
            (port) =>
                new Promise((resolve, reject) => {
                    const server = createServer((req, res) => {
                        const file = files[new URL(req.url ?? '/', 'http://x').pathname];
                        if (!file) {
                            res.writeHead(404).end();
                            return;
                        }
                        res.writeHead(200, { 'content-type': file[0], 'cache-control': 'no-store' });
                        res.end(file[1]());
                    });
                    server.once('error', reject);
                    server.listen(port, '127.0.0.1', () => resolve(server));
                }),
        ),
    );
    return () => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
}
