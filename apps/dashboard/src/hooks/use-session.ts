/**
 * The signed-in token and who it belongs to. The role is asked of the server and re-asked
 * while the server is unreachable; a refused token signs the session out with a reason.
 */
import { useCallback, useEffect, useState } from 'react';
import { clearToken, loadToken, saveToken } from '../lib/token-store.js';
import { whoami, type Identity } from '../lib/whoami.js';

const RETRY_MS = 3000;

export interface Session {
  token: string | undefined;
  /**
   * Who the token belongs to; `unknown` when the server has no whoami endpoint, undefined
   * until it has answered.
   */
  identity: Identity | 'unknown' | undefined;
  /** Why the user was signed out, or why signing in failed. */
  error: string | undefined;
  signIn: (token: string) => Promise<void>;
  signOut: (reason?: string) => void;
}

export function useSession(): Session {
  const [token, setToken] = useState(loadToken);
  const [identity, setIdentity] = useState<Identity | 'unknown'>();
  const [error, setError] = useState<string>();

  const signOut = useCallback((reason?: string) => {
    clearToken();
    setToken(undefined);
    setIdentity(undefined);
    setError(reason);
  }, []);

  const signIn = useCallback(async (candidate: string) => {
    const trimmed = candidate.trim();
    if (!trimmed) {
      setError('Paste an API token first.');
      return;
    }
    const result = await whoami(location.origin, trimmed);
    switch (result.kind) {
      case 'refused':
      case 'unreachable':
        setError(result.message);
        return;
      case 'ok':
      case 'unknown':
        saveToken(trimmed);
        setIdentity(result.kind === 'ok' ? result.identity : 'unknown');
        setError(undefined);
        setToken(trimmed);
    }
  }, []);

  // A token from an earlier visit: find out whose it is (and whether it still works).
  useEffect(() => {
    if (token === undefined || identity !== undefined) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = async () => {
      const result = await whoami(location.origin, token);
      if (stopped) return;
      if (result.kind === 'ok') setIdentity(result.identity);
      else if (result.kind === 'unknown') setIdentity('unknown');
      else if (result.kind === 'refused') signOut(result.message);
      else if (result.kind === 'unreachable') timer = setTimeout(() => void ask(), RETRY_MS);
    };
    void ask();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [token, identity, signOut]);

  return { token, identity, error, signIn, signOut };
}
