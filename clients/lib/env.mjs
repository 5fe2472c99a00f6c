// The flows' shared pieces: what scripts/clients.sh started (read from the environment it
// exports), one Firebase app per simulated device, the emulator's inboxes, and the API.
import assert from 'node:assert/strict';
import { initializeApp } from 'firebase/app';
import {
    PhoneAuthCredential,
    applyActionCode,
    connectAuthEmulator,
    createUserWithEmailAndPassword,
    getAuth,
    sendEmailVerification,
    signInAnonymously,
    signInWithEmailAndPassword,
} from 'firebase/auth';
import { bearer, brief, internalApi, publicApi } from './api.mjs';

export { bearer, brief };

function required(name) {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: run the flows through scripts/clients.sh`);
    return value;
}

export const PROJECT_ID = required('FIREBASE_PROJECT_ID');
export const EMULATOR_HOST = required('FIREBASE_AUTH_EMULATOR_HOST');
export const EMULATOR = `http://${EMULATOR_HOST}`;
export const PUBLIC_URL = required('HALO_PUBLIC_URL');
export const INTERNAL_URL = required('HALO_INTERNAL_URL');
export const SUPER_ADMIN_EMAIL = required('SUPER_ADMIN_EMAIL');
// The emulator takes any API key; the SDK only insists that there is one.
export const FIREBASE_CONFIG = { apiKey: 'emulator-api-key', authDomain: 'localhost', projectId: PROJECT_ID };
export const PASSWORD = 'correct horse battery staple';

/** Prints one step of a flow; node --test shows it under the test. */
export function say(flow, message) {
    console.log(`[${flow}] ${message}`);
}

let apps = 0;
/** A fresh Firebase app (its own signed-in user) talking to the emulator, like one device. */
export function device() {
    const app = initializeApp(FIREBASE_CONFIG, `device-${process.pid}-${++apps}`);
    const auth = getAuth(app);
    connectAuthEmulator(auth, EMULATOR, { disableWarnings: true });
    return auth;
}

/** The two surfaces through the typed client (lib/api.mjs). */
export const pub = publicApi(PUBLIC_URL);
export const internal = internalApi(INTERNAL_URL);

/** The user an app has signed in; a flow that calls this before signing in is wrong. */
export function signedIn(/** @type {import('firebase/auth').Auth} */ auth) {
    if (!auth.currentUser) throw new Error('no user is signed in on this device');
    return auth.currentUser;
}

/** The claims of an ID token (the emulator's are unsigned JWTs), to show what the API was given. */
export function claims(idToken) {
    return JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString());
}

async function emulatorJson(method, path, body, { owner = true } = {}) {
    /** @type {Record<string, string>} */
    const headers = { 'content-type': 'application/json' };
    // "owner" is the emulator's admin credential, standing in for the Admin SDK's service account.
    if (owner) headers.authorization = 'Bearer owner';
    const res = await fetch(EMULATOR + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`emulator ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
}

/**
 * A phone credential as the app gets one after the SMS. The SDK's phone flow needs reCAPTCHA
 * and a browser, so the verification id comes from the identitytoolkit REST call the SDK
 * would make, and the code from the emulator's SMS inbox.
 */
export async function phoneCredential(phoneNumber) {
    const { sessionInfo } = await emulatorJson(
        'POST',
        `/identitytoolkit.googleapis.com/v1/accounts:sendVerificationCode?key=${FIREBASE_CONFIG.apiKey}`,
        { phoneNumber },
        { owner: false },
    );
    const { verificationCodes } = await emulatorJson('GET', `/emulator/v1/projects/${PROJECT_ID}/verificationCodes`);
    const sent = verificationCodes.find((c) => c.sessionInfo === sessionInfo);
    if (!sent) throw new Error(`no SMS code for ${phoneNumber}`);
    // PhoneAuthProvider is a stub in the SDK's Node build; the credential class itself is whole.
    const credential = PhoneAuthCredential.fromJSON({ verificationId: sessionInfo, verificationCode: sent.code });
    if (!credential) throw new Error(`the SDK made no credential of the SMS code for ${phoneNumber}`);
    return credential;
}

/** Verifies the signed-in user's email the way a person does: the link in the verification mail. */
export async function verifyEmail(auth) {
    const user = signedIn(auth);
    await sendEmailVerification(user);
    const { oobCodes } = await emulatorJson('GET', `/emulator/v1/projects/${PROJECT_ID}/oobCodes`);
    const mail = oobCodes.filter((c) => c.requestType === 'VERIFY_EMAIL' && c.email === user.email).at(-1);
    if (!mail) throw new Error(`no verification mail for ${user.email}`);
    await applyActionCode(auth, mail.oobCode);
    await user.reload();
    return user.getIdToken(true);
}

/** Signs in (creating the emulator account on first use) with email and password. */
export async function passwordUser(auth, email) {
    try {
        return (await createUserWithEmailAndPassword(auth, email, PASSWORD)).user;
    } catch (e) {
        if (e.code !== 'auth/email-already-in-use') throw e;
        return (await signInWithEmailAndPassword(auth, email, PASSWORD)).user;
    }
}

/**
 * The seeded super admin, signed in through the emulator and bound by verified email. Its
 * Firebase account is made the way an operator makes it in the Firebase console (the
 * emulator's admin REST call, email already verified), so flows running side by side
 * never race to create or verify it.
 */
export async function superAdmin() {
    try {
        await emulatorJson('POST', `/identitytoolkit.googleapis.com/v1/projects/${PROJECT_ID}/accounts`, {
            email: SUPER_ADMIN_EMAIL,
            password: PASSWORD,
            emailVerified: true,
        });
    } catch (e) {
        if (!e.message.includes('EMAIL_EXISTS')) throw e;
    }
    const auth = device();
    await signInWithEmailAndPassword(auth, SUPER_ADMIN_EMAIL, PASSWORD);
    const token = await signedIn(auth).getIdToken();
    const bound = await internal.POST('/internal/auth/verify', { headers: bearer(token) });
    if (bound.response.status !== 200) throw new Error(`the super admin could not sign in: ${brief(bound)}`);
    return { auth, token };
}

/** An app that signed in anonymously and created its customer with that token. */
export async function anonymousCustomer(flow, displayName) {
    const auth = device();
    const { user } = await signInAnonymously(auth);
    const token = await user.getIdToken();
    say(flow, `signed in anonymously: uid ${user.uid}, provider ${claims(token).firebase.sign_in_provider}`);
    const created = await pub.POST('/api/shared/customer/anonymous', {
        headers: bearer(token),
        body: { display_name: displayName },
    });
    say(flow, `POST /api/shared/customer/anonymous -> ${brief(created)}`);
    assert.equal(created.response.status, 201, brief(created));
    assert.ok(created.data, brief(created));
    assert.equal(created.data.data.is_anonymous, true);
    return { auth, user, customer: created.data.data };
}

/** The emulator's record of a uid, or undefined once the account is deleted. */
export async function emulatorAccount(uid) {
    const { users } = await emulatorJson('POST', `/identitytoolkit.googleapis.com/v1/projects/${PROJECT_ID}/accounts:lookup`, {
        localId: [uid],
    });
    return users?.[0];
}
