// The sign-in page of a server started with --auth: paste a token, or open a sign-in link.
import { useEffect, useState } from "preact/hooks";
import { type Session, signIn } from "../session";

export function SignInPage({ code, onSignedIn }: { code: string | null; onSignedIn: (s: Session) => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (credentials: { token: string } | { code: string }) => {
    setBusy(true);
    setError(null);
    try {
      const session = await signIn(credentials);
      if (location.hash.startsWith("#/sign-in")) location.hash = "#/experiments";
      onSignedIn(session);
    } catch (exc) {
      setError(exc instanceof Error ? exc.message : String(exc));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    if (code) {
      history.replaceState(null, "", "#/sign-in"); // the code works once: drop it from the address
      submit({ code });
    }
  }, [code]);

  return (
    <section class="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      <p>
        This server needs a token. Ask its administrator for one (<code>runhistory token create --name …
        --print-url</code> also makes a one-click sign-in link).
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (token.trim()) submit({ token: token.trim() });
        }}
      >
        <label for="sign-in-token">Token</label>
        <input
          id="sign-in-token"
          type="password"
          autocomplete="off"
          placeholder="rht_…"
          value={token}
          onInput={(event) => setToken((event.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={busy || !token.trim()}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
