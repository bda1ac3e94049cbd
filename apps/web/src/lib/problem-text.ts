import { ApiError } from '../api/api-error';

const minutes = (seconds: number): string => {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} seconds`;
  const m = Math.round(seconds / 60);
  return m < 90 ? `${m} minutes` : `${Math.round(m / 60)} hours`;
};

/** What to tell a person about a failed request, in words rather than codes. */
export function problemText(error: unknown): string {
  if (!(error instanceof ApiError)) return 'Something went wrong. Please try again.';
  const wait = error.retryAfter;
  switch (error.code) {
    case 'network':
      return 'The server cannot be reached. Check your connection and try again.';
    case 'invalid_credentials':
      return error.field('currentPassword') || error.field('password')
        ? 'That password is not right.'
        : error.field('otp')
          ? 'That code is not right.'
          : 'The email or password is not right.';
    case 'mfa_required':
      return 'Enter the 6-digit code from your authenticator app, or one of your recovery codes.';
    case 'account_locked':
      return `Too many failed sign-ins: this account is locked${wait ? ` for ${minutes(wait)}` : ' for now'}. Try again later, or ask an administrator to unlock it.`;
    case 'rate_limited':
      return `Too many attempts in a short time. Please wait ${wait ? minutes(wait) : 'a moment'} and try again.`;
    case 'email_taken':
      return 'An account with this email already exists. Sign in instead.';
    case 'token_expired':
    case 'unauthorized':
      return 'Your session has ended. Please sign in again.';
    case 'forbidden':
      return error.problem.detail ?? 'You are not allowed to do that.';
    case 'not_found':
      return 'It is not there any more, or it was never shared with you.';
    case 'payload_too_large':
      return 'That is too large.';
    case 'unsupported_media_type':
      return 'That kind of file is not supported. Use txt, md, html, pdf, docx, csv or json.';
    case 'service_unavailable':
      return `GigaChat is briefly unavailable. Try again${wait ? ` in ${minutes(wait)}` : ' shortly'}.`;
    case 'upstream_unavailable':
      return 'The model provider could not answer right now. Try again in a little while.';
    case 'validation_failed': {
      const first = error.problem.errors?.[0];
      return first
        ? `${fieldLabel(first.field)} ${first.message}.`
        : (error.problem.detail ?? 'Please check what you entered.');
    }
    default:
      return error.problem.detail ?? error.problem.title ?? 'Something went wrong. Please try again.';
  }
}

const LABELS: Record<string, string> = {
  email: 'Email',
  password: 'Password',
  newPassword: 'New password',
  displayName: 'Name',
  otp: 'The code',
  name: 'Name',
  scopes: 'Scopes',
  content: 'The message',
  file: 'The file',
};

function fieldLabel(field: string): string {
  return LABELS[field] ?? field;
}
