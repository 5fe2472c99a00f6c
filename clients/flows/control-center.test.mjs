import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SUPER_ADMIN_EMAIL, brief, claims, device, internal, passwordUser, say, superAdmin, verifyEmail } from '../lib/env.mjs';

test('the seeded super admin signs in through the emulator with a verified email and is bound', async () => {
    const flow = 'super admin';
    const { auth, token } = await superAdmin();
    const { email, email_verified, firebase } = claims(token);
    say(flow, `signed in with email/password as ${email} (verified ${email_verified}, provider ${firebase.sign_in_provider}), uid ${auth.currentUser.uid}`);
    const verify = await internal('POST', '/internal/auth/verify', { token });
    say(flow, `POST /internal/auth/verify -> ${verify.status} ${verify.body.data?.email} role ${verify.body.data?.role?.name}`);
    assert.equal(verify.status, 200, brief(verify));
    assert.equal(verify.body.data.email, SUPER_ADMIN_EMAIL);
    assert.equal(verify.body.data.role.name, 'super_admin');
});

/** A control-center user with the operator role, created by the super admin. */
async function operator(flow, email) {
    const { token } = await superAdmin();
    const roles = await internal('GET', '/internal/roles', { token });
    const role = roles.body.data.find((r) => r.name === 'operator');
    const created = await internal('POST', '/internal/control-center-users', {
        token,
        body: { email, display_name: 'Operator', role_id: role.id },
    });
    say(flow, `super admin: POST /internal/control-center-users ${email} -> ${brief(created)}`);
    assert.equal(created.status, 201, brief(created));
    return created.body.data;
}

test('a control-center user whose email is verified is bound at first sign-in', async () => {
    const flow = 'control center, verified';
    const email = `operator.verified.${process.pid}@halobestie.com`;
    const user = await operator(flow, email);
    const auth = device();
    await passwordUser(auth, email);
    const token = await verifyEmail(auth);
    say(flow, `signed up with email/password, opened the verification mail: token email_verified ${claims(token).email_verified}`);
    const verify = await internal('POST', '/internal/auth/verify', { token });
    say(flow, `POST /internal/auth/verify -> ${verify.status} ${verify.body.data?.email} role ${verify.body.data?.role?.name}`);
    assert.equal(verify.status, 200, brief(verify));
    assert.equal(verify.body.data.id, user.id);
    assert.equal(verify.body.data.role.name, 'operator');
    const mitras = await internal('GET', '/internal/mitras?page=1&limit=20', { token });
    say(flow, `GET /internal/mitras -> ${mitras.status}`);
    assert.equal(mitras.status, 200, brief(mitras));
});

test('a control-center user whose email is unverified is refused until they verify it', async () => {
    const flow = 'control center, unverified';
    const email = `operator.unverified.${process.pid}@halobestie.com`;
    const user = await operator(flow, email);
    const auth = device();
    await passwordUser(auth, email);
    let token = await auth.currentUser.getIdToken();
    say(flow, `signed up with email/password, did not verify: token email_verified ${claims(token).email_verified}`);
    const refused = await internal('POST', '/internal/auth/verify', { token });
    say(flow, `POST /internal/auth/verify -> ${brief(refused)}`);
    assert.equal(refused.status, 404, brief(refused));
    assert.equal(refused.body.error.code, 'NOT_FOUND');
    const mitras = await internal('GET', '/internal/mitras?page=1&limit=20', { token });
    say(flow, `GET /internal/mitras -> ${brief(mitras)}`);
    assert.equal(mitras.status, 403, brief(mitras));
    token = await verifyEmail(auth);
    const bound = await internal('POST', '/internal/auth/verify', { token });
    say(flow, `after opening the verification mail: POST /internal/auth/verify -> ${bound.status} ${bound.body.data?.email}`);
    assert.equal(bound.status, 200, brief(bound));
    assert.equal(bound.body.data.id, user.id);
});
