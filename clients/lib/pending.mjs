// Flows that drive behaviour the API gains with issue 11's server work (operations.md §6–§10).
// Until that work is merged they fail; their names say which section they wait for.
export const needs = (section) => ` [needs server work: ${section}]`;
