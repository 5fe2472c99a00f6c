import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linkWithCredential } from 'firebase/auth';
import { anonymousCustomer, bearer, brief, emulatorAccount, phoneCredential, pub, say } from '../lib/env.mjs';

/** The app's "delete my account": the API's record first, then the Firebase account. */
async function deleteAccount(flow, user, customerId) {
    const token = await user.getIdToken();
    const deleted = await pub.DELETE('/api/client/account', { headers: bearer(token) });
    say(flow, `DELETE /api/client/account -> ${brief(deleted)}`);
    assert.equal(deleted.response.status, 200, brief(deleted));
    assert.deepEqual(deleted.data?.data, { id: customerId, deleted: true });
    const verify = await pub.POST('/api/client/auth/verify', { headers: bearer(token) });
    say(flow, `POST /api/client/auth/verify -> ${brief(verify)}`);
    assert.equal(verify.response.status, 404, brief(verify));
    assert.equal(verify.error?.error.code, 'NOT_FOUND');
    const again = await pub.DELETE('/api/client/account', { headers: bearer(token) });
    say(flow, `DELETE /api/client/account again -> ${brief(again)}`);
    assert.equal(again.response.status, 404, brief(again));
    assert.equal(again.error?.error.code, 'NOT_FOUND');
    await user.delete();
    const account = await emulatorAccount(user.uid);
    say(flow, `user.delete(): the emulator has ${account ? 'still' : 'no longer'} an account ${user.uid}`);
    assert.equal(account, undefined);
}

test(`an anonymous customer deletes their account, then their Firebase user`, async () => {
    const flow = 'delete anonymous';
    const { user, customer } = await anonymousCustomer(flow, 'Sebentar Saja');
    await deleteAccount(flow, user, customer.id);
});

test(`a phone customer deletes their account and the same phone registers again`, async () => {
    const flow = 'delete phone customer';
    const phone = '+6281234560099';
    const linkPhone = async (user, customer) => {
        await linkWithCredential(user, await phoneCredential(phone));
        const link = await pub.POST('/api/shared/customer/link', {
            headers: bearer(await user.getIdToken(true)),
            body: { customer_id: customer.id, firebase_uid: user.uid },
        });
        say(flow, `linked ${phone}: POST /api/shared/customer/link -> ${brief(link)}`);
        assert.equal(link.response.status, 200, brief(link));
        assert.ok(link.data);
        return link.data.data;
    };
    const first = await anonymousCustomer(flow, 'Pertama Kali');
    await linkPhone(first.user, first.customer);
    await deleteAccount(flow, first.user, first.customer.id);
    const second = await anonymousCustomer(flow, 'Kedua Kali');
    const relinked = await linkPhone(second.user, second.customer);
    assert.notEqual(relinked.id, first.customer.id);
    assert.equal(relinked.phone, phone);
});
