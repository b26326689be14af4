// Signing in to a server started with --auth: the server turns a token (or the one-time code
// of a sign-in link) into an HttpOnly session cookie; the studio never keeps the token.
import { useEffect, useState } from "preact/hooks";
import { ApiError, UNAUTHORIZED_EVENT } from "./api";

export interface Session {
  auth: boolean;
  signed_in: boolean;
  name: string | null;
  scope: string | null;
}

const URL = "api/v1/session";

async function answer(response: Response): Promise<Session> {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ApiError(response.status, body.error ?? "HttpError", body.message ?? response.statusText);
  }
  return body as Session;
}

export async function currentSession(): Promise<Session> {
  return answer(await fetch(URL));
}

/** Sign in with a token or a sign-in code; the server sets the cookies. */
export async function signIn(credentials: { token: string } | { code: string }): Promise<Session> {
  const response = await fetch(URL, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Requested-With": "runhistory" },
    body: JSON.stringify(credentials),
  });
  return answer(response);
}

export async function signOut(): Promise<void> {
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("rh_csrf="));
  const headers: Record<string, string> = csrf ? { "X-CSRF-Token": csrf.slice("rh_csrf=".length) } : {};
  await fetch(URL, { method: "DELETE", headers });
}

/** The session, loaded at start and reloaded when the server answers 401. */
export function useSession(): [Session | null, (s: Session) => void] {
  const [session, setSession] = useState<Session | null>(null);
  useEffect(() => {
    const load = () => currentSession().then(setSession, () => setSession(null));
    load();
    addEventListener(UNAUTHORIZED_EVENT, load);
    return () => removeEventListener(UNAUTHORIZED_EVENT, load);
  }, []);
  return [session, setSession];
}
