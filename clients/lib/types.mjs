// The typed client's types: api/<surface>.d.ts, made by openapi-typescript from
// openapi/<surface>.json (which `halo-dev gen` writes). `node lib/types.mjs` (or
// `scripts/clients.sh types`) rewrites them after a spec changes; checks/types.test.mjs
// fails while a committed one is stale.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const CLIENTS = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SURFACES = ['public', 'internal'];
export const specPath = (/** @type {string} */ surface) => join(CLIENTS, '..', 'openapi', `${surface}.json`);
export const typesPath = (/** @type {string} */ surface) => join(CLIENTS, 'api', `${surface}.d.ts`);

const require = createRequire(import.meta.url);
const openapiTypescript = join(dirname(require.resolve('openapi-typescript/package.json')), 'bin', 'cli.js');
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');

/** Writes the TypeScript types of the spec at `spec` to `out`. */
export function generate(/** @type {string} */ spec, /** @type {string} */ out) {
    execFileSync(process.execPath, [openapiTypescript, spec, '--output', out], { stdio: 'pipe' });
}

/** `tsc --noEmit` of the project whose tsconfig.json is in `dir`: its exit status and what it printed. */
export function typeCheck(/** @type {string} */ dir) {
    try {
        execFileSync(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', '.'], { cwd: dir, stdio: 'pipe' });
        return { status: 0, output: '' };
    } catch (e) {
        if (typeof e.status !== 'number') throw e;
        return { status: e.status, output: `${e.stdout}${e.stderr}` };
    }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
    for (const surface of SURFACES) {
        generate(specPath(surface), typesPath(surface));
        console.log(`wrote clients/api/${surface}.d.ts from openapi/${surface}.json`);
    }
}
