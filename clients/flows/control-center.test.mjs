import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SUPER_ADMIN_EMAIL, bearer, brief, claims, device, internal, passwordUser, say, signedIn, superAdmin, verifyEmail } from '../lib/env.mjs';

test('the seeded super admin signs in through the emulator with a verified email and is bound', async () => {
    const flow = 'super admin';
    const { auth, token } = await superAdmin();
    const { email, email_verified, firebase } = claims(token);
    say(flow, `signed in with email/password as ${email} (verified ${email_verified}, provider ${firebase.sign_in_provider}), uid ${signedIn(auth).uid}`);
    const verify = await internal.POST('/internal/auth/verify', { headers: bearer(token) });
    say(flow, `POST /internal/auth/verify -> ${verify.response.status} ${verify.data?.data.email} role ${verify.data?.data.role.name}`);
    assert.equal(verify.response.status, 200, brief(verify));
    assert.ok(verify.data);
    assert.equal(verify.data.data.email, SUPER_ADMIN_EMAIL);
    assert.equal(verify.data.data.role.name, 'super_admin');
});

/** A control-center user with the operator role, created by the super admin. */
async function operator(flow, email) {
    const { token } = await superAdmin();
    const roles = await internal.GET('/internal/roles', { headers: bearer(token) });
    const role = roles.data?.data.find((r) => r.name === 'operator');
    assert.ok(role, brief(roles));
    const created = await internal.POST('/internal/control-center-users', {
        headers: bearer(token),
        body: { email, display_name: 'Operator', role_id: /** @type {import('../lib/api.mjs').SeededRoleId} */ (role.id) },
    });
    say(flow, `super admin: POST /internal/control-center-users ${email} -> ${brief(created)}`);
    assert.equal(created.response.status, 201, brief(created));
    assert.ok(created.data);
    return created.data.data;
}

test('a control-center user whose email is verified is bound at first sign-in', async () => {
    const flow = 'control center, verified';
    const email = `operator.verified.${process.pid}@halobestie.com`;
    const user = await operator(flow, email);
    const auth = device();
    await passwordUser(auth, email);
    const token = await verifyEmail(auth);
    say(flow, `signed up with email/password, opened the verification mail: token email_verified ${claims(token).email_verified}`);
    const verify = await internal.POST('/internal/auth/verify', { headers: bearer(token) });
    say(flow, `POST /internal/auth/verify -> ${verify.response.status} ${verify.data?.data.email} role ${verify.data?.data.role.name}`);
    assert.equal(verify.response.status, 200, brief(verify));
    assert.ok(verify.data);
    assert.equal(verify.data.data.id, user.id);
    assert.equal(verify.data.data.role.name, 'operator');
    const mitras = await internal.GET('/internal/mitras', { headers: bearer(token), params: { query: { page: 1, limit: 20 } } });
    say(flow, `GET /internal/mitras -> ${mitras.response.status}`);
    assert.equal(mitras.response.status, 200, brief(mitras));
});

test('a control-center user whose email is unverified is refused until they verify it', async () => {
    const flow = 'control center, unverified';
    const email = `operator.unverified.${process.pid}@halobestie.com`;
    const user = await operator(flow, email);
    const auth = device();
    await passwordUser(auth, email);
    let token = await signedIn(auth).getIdToken();
    say(flow, `signed up with email/password, did not verify: token email_verified ${claims(token).email_verified}`);
    const refused = await internal.POST('/internal/auth/verify', { headers: bearer(token) });
    say(flow, `POST /internal/auth/verify -> ${brief(refused)}`);
    assert.equal(refused.response.status, 404, brief(refused));
    assert.equal(refused.error?.error.code, 'NOT_FOUND');
    const mitras = await internal.GET('/internal/mitras', { headers: bearer(token), params: { query: { page: 1, limit: 20 } } });
    say(flow, `GET /internal/mitras -> ${brief(mitras)}`);
    assert.equal(mitras.response.status, 403, brief(mitras));
    token = await verifyEmail(auth);
    const bound = await internal.POST('/internal/auth/verify', { headers: bearer(token) });
    say(flow, `after opening the verification mail: POST /internal/auth/verify -> ${bound.response.status} ${bound.data?.data.email}`);
    assert.equal(bound.response.status, 200, brief(bound));
    assert.equal(bound.data?.data.id, user.id);
});
