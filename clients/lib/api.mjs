// The API as the control center and the apps call it: openapi-fetch clients typed by the
// specs (api/*.d.ts, generated from openapi/*.json by openapi-typescript). Runs in Node and
// in the browser page alike.
import createClient from 'openapi-fetch';

/**
 * @typedef {import('openapi-fetch').Client<import('../api/public').paths>} PublicApi
 * @typedef {import('openapi-fetch').Client<import('../api/internal').paths>} InternalApi
 * @typedef {import('../api/internal').components['schemas']['CreateControlCenterUserRequest']['role_id']} SeededRoleId
 *   The spec lists the seeded roles' ids as the only ones a user can be given; a role id read
 *   from GET /internal/roles is a plain string until the caller says it is one of them.
 */

/** fetch with a deadline per request, so a hung server fails the call rather than the run. */
const fetchWithin = (/** @type {number} */ ms) => (/** @type {Request} */ request) => fetch(request, { signal: AbortSignal.timeout(ms) });

/** @param {string} baseUrl @returns {PublicApi} */
export const publicApi = (baseUrl, timeoutMs = 10_000) => createClient({ baseUrl, fetch: fetchWithin(timeoutMs) });

/** @param {string} baseUrl @returns {InternalApi} */
export const internalApi = (baseUrl, timeoutMs = 10_000) => createClient({ baseUrl, fetch: fetchWithin(timeoutMs) });

/** The Authorization header of a Firebase ID token. */
export const bearer = (/** @type {string} */ token) => ({ authorization: `Bearer ${token}` });

/**
 * One line for the log: status, and the error code or the data's fields.
 * @param {{ response: Response, data?: { data?: unknown }, error?: { error?: { code?: string, message?: string } } }} answer
 */
export function brief({ response, data, error }) {
    if (error) return `${response.status} ${error.error?.code}: ${error.error?.message}`;
    return `${response.status} ${JSON.stringify(data?.data ?? data)}`;
}
