// What the control center does at sign-in: Firebase email/password through the emulator,
// then the API with fetch and a bearer token. The outcome lands in window.signInResult.
import { initializeApp } from 'firebase/app';
import { connectAuthEmulator, getAuth, inMemoryPersistence, setPersistence, signInWithEmailAndPassword } from 'firebase/auth';

const params = new URLSearchParams(location.search);
const api = params.get('api');

async function call(method, path, token) {
    try {
        const res = await fetch(api + path, { method, headers: { authorization: `Bearer ${token}` } });
        // Readable from script only when the API exposes it (Access-Control-Expose-Headers).
        const requestId = res.headers.get('x-request-id');
        return { status: res.status, requestId, body: await res.json() };
    } catch (e) {
        // A CORS refusal reaches script only as this TypeError; the reason is in the console.
        return { error: `${e.name}: ${e.message}` };
    }
}

async function run() {
    const app = initializeApp({ apiKey: 'emulator-api-key', authDomain: 'localhost', projectId: params.get('project') });
    const auth = getAuth(app);
    await setPersistence(auth, inMemoryPersistence);
    connectAuthEmulator(auth, params.get('emulator'), { disableWarnings: true });
    const { user } = await signInWithEmailAndPassword(auth, params.get('email'), params.get('password'));
    const token = await user.getIdToken();
    return {
        origin: location.origin,
        uid: user.uid,
        verify: await call('POST', '/internal/auth/verify', token),
        mitras: await call('GET', '/internal/mitras?page=1&limit=20', token),
    };
}

run()
    .then((result) => result, (e) => ({ failed: `${e.name}: ${e.message}` }))
    .then((result) => {
        window.signInResult = result;
        document.getElementById("outcome").textContent = JSON.stringify(result, null, 2);
    });
