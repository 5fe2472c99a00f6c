// What the control center does at sign-in: Firebase email/password through the emulator,
// then the API through the typed client with a bearer token. The outcome lands in
// window.signInResult.
import { initializeApp } from 'firebase/app';
import { connectAuthEmulator, getAuth, inMemoryPersistence, setPersistence, signInWithEmailAndPassword } from 'firebase/auth';
import { bearer, internalApi } from '../lib/api.mjs';

const params = new URLSearchParams(location.search);

/** A query parameter the test puts in the page's URL. */
function param(/** @type {string} */ name) {
    const value = params.get(name);
    if (value === null) throw new Error(`the page needs ?${name}=`);
    return value;
}

/**
 * What the page's script sees of one call: the answer, or that the browser refused it.
 * @template {{ response: Response, data?: unknown, error?: unknown }} A
 * @param {() => Promise<A>} send
 */
async function outcome(send) {
    try {
        const { response, data, error } = await send();
        // Readable from script only when the API exposes it (Access-Control-Expose-Headers).
        const requestId = response.headers.get('x-request-id');
        return { status: response.status, requestId, data: /** @type {A['data']} */ (data), error: /** @type {A['error']} */ (error) };
    } catch (e) {
        // A CORS refusal reaches script only as this TypeError; the reason is in the console.
        return { blocked: `${e.name}: ${e.message}` };
    }
}

async function run() {
    const api = internalApi(param('api'));
    const app = initializeApp({ apiKey: 'emulator-api-key', authDomain: 'localhost', projectId: param('project') });
    const auth = getAuth(app);
    await setPersistence(auth, inMemoryPersistence);
    connectAuthEmulator(auth, param('emulator'), { disableWarnings: true });
    const { user } = await signInWithEmailAndPassword(auth, param('email'), param('password'));
    const headers = bearer(await user.getIdToken());
    return {
        origin: location.origin,
        uid: user.uid,
        verify: await outcome(() => api.POST('/internal/auth/verify', { headers })),
        mitras: await outcome(() => api.GET('/internal/mitras', { headers, params: { query: { page: 1, limit: 20 } } })),
    };
}

/** @typedef {Awaited<ReturnType<typeof run>> | { failed: string }} SignInResult */

run()
    .then((result) => result, (e) => ({ failed: `${e.name}: ${e.message}` }))
    .then((/** @type {SignInResult} */ result) => {
        window.signInResult = result;
        const shown = document.getElementById('outcome');
        if (shown) shown.textContent = JSON.stringify(result, null, 2);
    });
