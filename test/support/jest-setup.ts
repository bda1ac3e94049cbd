/// <reference types="jest" />
// Integration tests start real services (a worker, the API, a database): give hooks and tests room.
jest.setTimeout(90_000);
