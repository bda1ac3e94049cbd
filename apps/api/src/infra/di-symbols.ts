/** Dependency-injection symbols for the clients the API shares across modules. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const LOGGER = Symbol('LOGGER');
export const DATA_SOURCE = Symbol('DATA_SOURCE');
/** The repositories over MySQL (libs/db/database.ts): what services use instead of the ORM. */
export const DATABASE = Symbol('DATABASE');
export const REDIS = Symbol('REDIS');
export const TEMPORAL_CLIENT = Symbol('TEMPORAL_CLIENT');
/** The uploaded files' bytes: S3 or a local directory (libs/storage). */
export const OBJECT_STORE = Symbol('OBJECT_STORE');
