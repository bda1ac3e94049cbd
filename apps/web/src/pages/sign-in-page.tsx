import { useState } from 'preact/hooks';
import { ApiError, sendJson } from '../api/client';
import { startSession } from '../api/session';
import type { TokenPair } from '../api/types';
import { usePage } from '../lib/page';
import { problemText } from '../lib/problem-text';

interface Props {
  mode: 'login' | 'register';
  onSignedIn: () => Promise<void>;
}

/** Register, log in, and the second step (a TOTP code or a recovery code) when two-factor sign-in is on. */
export function SignInPage({ mode, onSignedIn }: Props) {
  const heading = usePage(mode === 'register' ? 'Create an account' : 'Sign in');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [otp, setOtp] = useState('');
  const [step, setStep] = useState<'password' | 'otp'>('password');
  const [recovery, setRecovery] = useState(false);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const logIn = async (code?: string) => {
    const pair = await sendJson<TokenPair>(
      'POST',
      '/auth/login',
      { email, password, ...(code ? { otp: code } : {}) },
      { anonymous: true },
    );
    startSession(pair);
    await onSignedIn();
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (mode === 'register') {
        await sendJson('POST', '/auth/register', { email, password, displayName }, { anonymous: true });
        await logIn();
      } else if (step === 'otp') {
        await logIn(otp.trim());
      } else {
        await logIn();
      }
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'mfa_required' && step === 'password') {
        setStep('otp');
      } else {
        setError(problemText(caught));
        if (caught instanceof ApiError && caught.code === 'account_locked') setStep('password');
      }
    } finally {
      setBusy(false);
    }
  };

  const title = mode === 'register' ? 'Create an account' : step === 'otp' ? 'Two-step sign-in' : 'Sign in';
  return (
    <main id="main" class="auth-page">
      <div class="auth-card">
        <p class="brand-large" aria-hidden="true">
          GigaChat
        </p>
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        <form onSubmit={(e) => void submit(e)} noValidate={false}>
          {step === 'password' ? (
            <>
              {mode === 'register' && (
                <div class="field">
                  <label for="displayName">Name</label>
                  <input
                    id="displayName"
                    name="displayName"
                    autocomplete="name"
                    required
                    maxLength={100}
                    value={displayName}
                    onInput={(e) => setDisplayName(e.currentTarget.value)}
                  />
                </div>
              )}
              <div class="field">
                <label for="email">Email</label>
                <input
                  id="email"
                  name="email"
                  type="email"
                  autocomplete={mode === 'register' ? 'email' : 'username'}
                  required
                  value={email}
                  onInput={(e) => setEmail(e.currentTarget.value)}
                />
              </div>
              <div class="field">
                <label for="password">Password</label>
                <input
                  id="password"
                  name="password"
                  type="password"
                  autocomplete={mode === 'register' ? 'new-password' : 'current-password'}
                  required
                  aria-describedby={mode === 'register' ? 'password-hint' : undefined}
                  value={password}
                  onInput={(e) => setPassword(e.currentTarget.value)}
                />
                {mode === 'register' && (
                  <p id="password-hint" class="hint">
                    At least 12 characters; a few unrelated words make a strong password.
                  </p>
                )}
              </div>
            </>
          ) : (
            <div class="field">
              <p id="otp-help">
                {recovery
                  ? 'Enter one of the recovery codes you saved when you turned on two-step sign-in. Each works once.'
                  : 'Enter the 6-digit code your authenticator app shows for GigaChat.'}
              </p>
              <label for="otp">{recovery ? 'Recovery code' : 'Authentication code'}</label>
              <input
                // A new element per kind of code: Preact would leave the old pattern behind as "undefined".
                key={recovery ? 'recovery' : 'totp'}
                id="otp"
                name="otp"
                autocomplete="one-time-code"
                inputMode={recovery ? 'text' : 'numeric'}
                pattern={recovery ? undefined : '[0-9]{6}'}
                required
                aria-describedby="otp-help"
                value={otp}
                autoFocus
                onInput={(e) => setOtp(e.currentTarget.value)}
              />
              <button type="button" class="link" onClick={() => setRecovery(!recovery)}>
                {recovery ? 'Use a code from the app instead' : 'Use a recovery code instead'}
              </button>
            </div>
          )}
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" disabled={busy}>
            {mode === 'register' ? 'Create account' : step === 'otp' ? 'Verify' : 'Sign in'}
          </button>
        </form>
        <p class="switch">
          {mode === 'register' ? (
            <>
              Already have an account? <a href="/login">Sign in</a>
            </>
          ) : (
            <>
              New here? <a href="/register">Create an account</a>
            </>
          )}
        </p>
      </div>
    </main>
  );
}
