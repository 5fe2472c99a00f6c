import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EmailAuthProvider, linkWithCredential, signInWithCustomToken } from 'firebase/auth';
import { PASSWORD, anonymousCustomer, bearer, brief, claims, device, pub, say } from '../lib/env.mjs';

/**
 * A custom token as a backend would mint with the Admin SDK's createCustomToken, which no
 * client SDK has. The emulator accepts it unsigned.
 */
function customToken(uid) {
    const part = (json) => Buffer.from(JSON.stringify(json)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const issuer = 'firebase-adminsdk@halobestie-local.iam.gserviceaccount.com';
    return `${part({ alg: 'none', typ: 'JWT' })}.${part({
        aud: 'https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit',
        iss: issuer,
        sub: issuer,
        uid,
        iat: now,
        exp: now + 3600,
    })}.`;
}

test(`a custom-token sign-in with neither phone nor email cannot link`, async () => {
    const flow = 'custom token';
    const auth = device();
    const { user } = await signInWithCustomToken(auth, customToken(`custom-${process.pid}-${Date.now()}`));
    const token = await user.getIdToken();
    const c = claims(token);
    say(flow, `signInWithCustomToken: uid ${user.uid}, provider ${c.firebase.sign_in_provider}, phone ${c.phone_number}, email ${c.email}`);
    const created = await pub.POST('/api/shared/customer/anonymous', {
        headers: bearer(token),
        body: { display_name: 'Tanpa Nama' },
    });
    say(flow, `POST /api/shared/customer/anonymous -> ${brief(created)}`);
    assert.equal(created.response.status, 201, brief(created));
    assert.ok(created.data);
    const link = await pub.POST('/api/shared/customer/link', {
        headers: bearer(token),
        body: { customer_id: created.data.data.id, firebase_uid: user.uid },
    });
    say(flow, `POST /api/shared/customer/link -> ${brief(link)}`);
    assert.equal(link.response.status, 422, brief(link));
    assert.equal(link.error?.error.code, 'VALIDATION_ERROR');
    const verify = await pub.POST('/api/client/auth/verify', { headers: bearer(token) });
    say(flow, `POST /api/client/auth/verify -> ${brief(verify)}`);
    assert.equal(verify.data?.data.is_anonymous, true, 'the customer stays anonymous');
});

test(`a password sign-in with an unverified email cannot link, and the email is not stored`, async () => {
    const flow = 'unverified password';
    const { user, customer } = await anonymousCustomer(flow, 'Bukan Pemilik');
    const email = `someone.else.${process.pid}@example.com`;
    await linkWithCredential(user, EmailAuthProvider.credential(email, PASSWORD));
    const token = await user.getIdToken(true);
    const c = claims(token);
    say(flow, `linkWithCredential(EmailAuthProvider) kept uid ${user.uid}: email ${c.email}, email_verified ${c.email_verified}, provider ${c.firebase.sign_in_provider}`);
    const link = await pub.POST('/api/shared/customer/link', {
        headers: bearer(token),
        body: { customer_id: customer.id, firebase_uid: user.uid },
    });
    say(flow, `POST /api/shared/customer/link -> ${brief(link)}`);
    assert.equal(link.response.status, 422, brief(link));
    assert.equal(link.error?.error.code, 'VALIDATION_ERROR');
    const verify = await pub.POST('/api/client/auth/verify', { headers: bearer(token) });
    say(flow, `POST /api/client/auth/verify -> ${brief(verify)}`);
    assert.equal(verify.response.status, 200, brief(verify));
    assert.ok(verify.data);
    assert.equal(verify.data.data.is_anonymous, true, 'the customer stays anonymous');
    assert.equal(verify.data.data.email, undefined, 'the unverified email is not stored');
});
