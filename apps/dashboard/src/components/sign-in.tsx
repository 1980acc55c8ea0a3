import { useState, type FormEvent } from 'react';

interface SignInProps {
  error: string | undefined;
  onSignIn: (token: string) => Promise<void>;
}

export function SignIn({ error, onSignIn }: SignInProps) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await onSignIn(token);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <form className="card sign-in__card" onSubmit={(e) => void submit(e)} data-testid="sign-in">
        <div className="brand brand--large">
          <span className="brand__mark" aria-hidden />
          Tabgrid
        </div>
        <h1>Sign in to the dashboard</h1>
        <p className="muted">
          Paste an API token. The admin token is printed by <code>npm start</code>; an admin can
          make a read-only one with <code>tabgrid keys create --name me --role viewer</code>.
        </p>
        <label className="field">
          <span>API token</span>
          <input
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={token}
            onChange={(e) => setToken(e.target.value)}
            placeholder="tg_…"
            autoFocus
            data-testid="token-input"
          />
        </label>
        {error ? (
          <p className="form-error" role="alert" data-testid="sign-in-error">
            {error}
          </p>
        ) : null}
        <button
          type="submit"
          className="button button--primary button--block"
          disabled={busy}
          data-testid="sign-in-button"
        >
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <p className="muted small">The token stays in this browser until you sign out.</p>
      </form>
    </main>
  );
}
