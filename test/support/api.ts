/** The API's path prefix. */
export const API = '/api/v1';

/** A well-formed id that names nothing. */
export const MISSING_ID = '00000000-0000-4000-8000-000000000000';

/** The content type of an error response (RFC 9457). */
export const PROBLEM_JSON = /^application\/problem\+json(;|$)/;
