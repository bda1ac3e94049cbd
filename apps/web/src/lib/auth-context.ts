import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { User } from '../api/types';

export interface AuthState {
  user: User;
  reloadUser: () => Promise<void>;
  signOut: () => Promise<void>;
}

export const AuthContext = createContext<AuthState | undefined>(undefined);

export function useAuth(): AuthState {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside a signed-in page');
  return auth;
}
