import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signInWithCredential } from 'firebase/auth';
import { bearer, brief, claims, device, internal, phoneCredential, pub, say, superAdmin } from '../lib/env.mjs';

/** An active mitra, created and activated by the super admin. */
async function activeMitra(flow, phone) {
    const { token } = await superAdmin();
    const created = await internal.POST('/internal/mitras', {
        headers: bearer(token),
        body: { phone, display_name: 'Dr. Budi' },
    });
    say(flow, `super admin: POST /internal/mitras ${phone} -> ${brief(created)}`);
    assert.equal(created.response.status, 201, brief(created));
    assert.ok(created.data);
    const id = created.data.data.id;
    const active = await internal.PATCH('/internal/mitras/{id}/status', {
        headers: bearer(token),
        params: { path: { id } },
        body: { is_active: true },
    });
    say(flow, `super admin: PATCH /internal/mitras/${id}/status -> ${active.response.status} is_active ${active.data?.data.is_active}`);
    assert.equal(active.response.status, 200, brief(active));
    return created.data.data;
}

/** The mitra app's OTP sign-in with the phone as the person typed it. */
async function mitraSignsIn(flow, typed) {
    const auth = device();
    const { user } = await signInWithCredential(auth, await phoneCredential(typed));
    const token = await user.getIdToken();
    say(flow, `signed in by SMS code as "${typed}": uid ${user.uid}, token phone_number "${claims(token).phone_number}"`);
    const verify = await pub.POST('/api/mitra/auth/verify', { headers: bearer(token) });
    say(flow, `POST /api/mitra/auth/verify -> ${brief(verify)}`);
    return verify;
}

test('a mitra created by the super admin signs in by phone and is found', async () => {
    const flow = 'mitra';
    const mitra = await activeMitra(flow, '081299990002');
    const verify = await mitraSignsIn(flow, '+6281299990002');
    assert.equal(verify.response.status, 200, brief(verify));
    assert.equal(verify.data?.data.id, mitra.id);
    assert.equal(verify.data?.data.phone, '+6281299990002');
});

test(`a mitra who typed the phone with spaces and dashes is found`, async () => {
    const flow = 'mitra, spaced phone';
    const mitra = await activeMitra(flow, '081299990001');
    // The emulator, like some clients, puts the number into the token exactly as typed.
    const verify = await mitraSignsIn(flow, '+62 812-9999-0001');
    assert.equal(verify.response.status, 200, brief(verify));
    assert.equal(verify.data?.data.id, mitra.id);
    assert.equal(verify.data?.data.phone, '+6281299990001');
});
