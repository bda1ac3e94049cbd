import { AuthError } from '#libs/errors/app-error';

/** 423: the account is locked after too many failed logins; `Retry-After` says for how many more seconds. */
export class AccountLockedError extends AuthError {
  constructor(readonly retryAfterSeconds: number) {
    super('account_locked', 'Too many failed logins: this account is locked for now; try again later', {
      headers: { 'Retry-After': String(retryAfterSeconds) },
    });
  }
}
