import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GoogleAuthProvider, linkWithCredential } from 'firebase/auth';
import { anonymousCustomer, bearer, brief, claims, phoneCredential, pub, say } from '../lib/env.mjs';

test('an anonymous customer links a phone on the same Firebase user, then verifies with it', async () => {
    const flow = 'anonymous -> phone';
    const { user, customer } = await anonymousCustomer(flow, 'Angin Malam');
    const phone = '+6281234560001';
    const linked = await linkWithCredential(user, await phoneCredential(phone));
    assert.equal(linked.user.uid, user.uid, 'the phone is linked to the same Firebase user');
    const token = await user.getIdToken(true);
    say(flow, `linkWithCredential(PhoneAuthCredential) kept uid ${user.uid}; token phone_number ${claims(token).phone_number}`);
    const link = await pub.POST('/api/shared/customer/link', {
        headers: bearer(token),
        body: { customer_id: customer.id, firebase_uid: user.uid },
    });
    say(flow, `POST /api/shared/customer/link -> ${brief(link)}`);
    assert.equal(link.response.status, 200, brief(link));
    assert.ok(link.data);
    assert.equal(link.data.data.id, customer.id);
    assert.equal(link.data.data.phone, phone);
    assert.equal(link.data.data.is_anonymous, false);
    const verify = await pub.POST('/api/client/auth/verify', { headers: bearer(token) });
    say(flow, `POST /api/client/auth/verify -> ${brief(verify)}`);
    assert.equal(verify.response.status, 200, brief(verify));
    assert.deepEqual(verify.data?.data, link.data.data);
});

test('a customer who links Google gets the email from the Google token', async () => {
    const flow = 'anonymous -> google';
    const { user, customer } = await anonymousCustomer(flow, 'Bintang Pagi');
    // The emulator accepts an unsigned JSON id_token for google.com in place of Google's signed one.
    const idToken = JSON.stringify({ sub: `google-${Date.now()}`, email: 'Bintang.Pagi@Example.com', email_verified: true });
    await linkWithCredential(user, GoogleAuthProvider.credential(idToken));
    const token = await user.getIdToken(true);
    const { email, email_verified, firebase } = claims(token);
    say(flow, `linkWithCredential(GoogleAuthProvider) kept uid ${user.uid}; token email ${email} (verified ${email_verified}), provider ${firebase.sign_in_provider}`);
    const link = await pub.POST('/api/shared/customer/link', {
        headers: bearer(token),
        body: { customer_id: customer.id, firebase_uid: user.uid },
    });
    say(flow, `POST /api/shared/customer/link -> ${brief(link)}`);
    assert.equal(link.response.status, 200, brief(link));
    assert.ok(link.data);
    assert.equal(link.data.data.email, email, 'the email is the one in the token');
    assert.equal(link.data.data.phone, null);
    const verify = await pub.POST('/api/client/auth/verify', { headers: bearer(token) });
    say(flow, `POST /api/client/auth/verify -> ${brief(verify)}`);
    assert.equal(verify.response.status, 200, brief(verify));
    assert.equal(verify.data?.data.email, email);
});
