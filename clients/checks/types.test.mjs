import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CLIENTS, SURFACES, generate, specPath, typeCheck, typesPath } from '../lib/types.mjs';

const scratch = mkdtempSync(join(tmpdir(), 'halo-client-types-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
// A whole-project tsc takes 10-30 s on a busy 2-core machine; the flows' 60 s default is too tight.
const slow = { timeout: 180_000 };

test('the committed client types are what openapi-typescript makes of the specs', () => {
    for (const surface of SURFACES) {
        const fresh = join(scratch, `${surface}.d.ts`);
        generate(specPath(surface), fresh);
        const stale = readFileSync(fresh, 'utf8') !== readFileSync(typesPath(surface), 'utf8');
        assert.ok(!stale, `clients/api/${surface}.d.ts is stale: run scripts/clients.sh types`);
        console.log(`[types] clients/api/${surface}.d.ts matches openapi/${surface}.json`);
    }
});

test('the flows and the control-center page type-check against the specs', slow, () => {
    const { status, output } = typeCheck(CLIENTS);
    console.log(`[types] tsc --noEmit -p clients -> exit ${status}`);
    assert.equal(status, 0, output);
});

/** A copy of the clients whose internal types come from `spec`, type-checked. */
function typeCheckAgainst(/** @type {object} */ spec) {
    const copy = join(scratch, 'clients');
    for (const part of ['tsconfig.json', 'api', 'browser', 'flows', 'lib']) {
        cpSync(join(CLIENTS, part), join(copy, part), { recursive: true });
    }
    symlinkSync(join(CLIENTS, 'node_modules'), join(copy, 'node_modules'));
    writeFileSync(join(scratch, 'internal.json'), JSON.stringify(spec));
    generate(join(scratch, 'internal.json'), join(copy, 'api', 'internal.d.ts'));
    return typeCheck(copy);
}

/** Renames a property of a schema in `spec`, as a careless change to the API would. */
function renameField(spec, schema, from, to) {
    const { properties, required = [] } = spec.components.schemas[schema];
    assert.ok(properties[from], `${schema}.${from} is in the spec`);
    properties[to] = properties[from];
    delete properties[from];
    spec.components.schemas[schema].required = required.map((name) => (name === from ? to : name));
}

test('a field renamed in the internal spec fails the type check where the clients send or read it', slow, () => {
    const spec = JSON.parse(readFileSync(specPath('internal'), 'utf8'));
    renameField(spec, 'CreateMitraRequest', 'display_name', 'full_name'); // what the mitra flow sends
    renameField(spec, 'ControlCenterUserProfile', 'email', 'email_address'); // what the page and flows read
    const { status, output } = typeCheckAgainst(spec);
    const errors = output.split('\n').filter((line) => line.includes('error TS'));
    for (const line of errors) console.log(`[types] ${line.slice(0, 160)}`);
    assert.notEqual(status, 0, 'tsc accepted clients written against the old field names');
    assert.ok(errors.some((line) => line.startsWith('flows/mitra.test.mjs') && line.includes('display_name')), output);
    assert.ok(errors.some((line) => line.startsWith('flows/control-center.test.mjs') && line.includes("'email'")), output);
    assert.ok(errors.some((line) => line.startsWith('flows/browser.test.mjs') && line.includes("'email'")), output);
});
