// The studio: a single-page app over the runhistory REST API.
import { render } from "preact";
import { useEffect } from "preact/hooks";
import { resetFirstChartMark } from "./charts/Chart";
import { setTheme, startTheme, useTheme } from "./lib/theme";
import { ComparePage } from "./pages/Compare";
import { ExperimentsPage } from "./pages/Experiments";
import { RunPage } from "./pages/Run";
import { ModelPage, ModelsPage } from "./pages/Models";
import { RunsPage } from "./pages/Runs";
import { SignInPage } from "./pages/SignIn";
import { type Route, href, useRoute } from "./router";
import { type Session, signOut, useSession } from "./session";
import "./style.css";

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "experiments":
      return <ExperimentsPage />;
    case "runs":
      return <RunsPage key={route.experimentId} experimentId={route.experimentId} params={route.params} />;
    case "run":
      return <RunPage key={route.runId} experimentId={route.experimentId} runId={route.runId} tab={route.tab} />;
    case "compare":
      return <ComparePage key={route.runIds.join(",")} experimentId={route.experimentId} runIds={route.runIds} />;
    case "sign-in":
      return <ExperimentsPage />;
    case "models":
      return <ModelsPage />;
    case "model":
      return <ModelPage key={route.name} name={route.name} version={route.version} />;
    default:
      return (
        <p class="error" role="alert">
          No page at “{route.path}”. <a href={href.experiments()}>Back to the experiments</a>
        </p>
      );
  }
}

function Account({ session, onChange }: { session: Session; onChange: (s: Session) => void }) {
  if (!session.auth || !session.signed_in) return null;
  const out = async () => {
    await signOut();
    onChange({ auth: true, signed_in: false, name: null, scope: null });
  };
  return (
    <span class="account">
      <span title={`token scope: ${session.scope}`}>{session.name}</span>
      <button type="button" onClick={out}>
        Sign out
      </button>
    </span>
  );
}

function App() {
  const route = useRoute();
  const theme = useTheme();
  const [session, setSession] = useSession();
  const signingIn = session !== null && session.auth && !session.signed_in;
  useEffect(() => {
    resetFirstChartMark();
    window.scrollTo(0, 0);
  }, [location.hash.split("?")[0]]);
  return (
    <>
      <header class="topbar">
        <a class="brand" href={href.experiments()}>runhistory studio</a>
        <nav aria-label="main">
          <a href={href.experiments()}>Experiments</a>
          <a href={href.models()}>Models</a>
        </nav>
        <button
          class="theme-toggle"
          onClick={() => setTheme(theme === "dark" ? "light" : "dark")}
          aria-label={`switch to ${theme === "dark" ? "light" : "dark"} theme`}
        >
          {theme === "dark" ? "☀ light" : "☾ dark"}
        </button>
        {session && <Account session={session} onChange={setSession} />}
      </header>
      <main id="main">
        {session === null ? null : signingIn ? (
          <SignInPage code={route.page === "sign-in" ? route.code : null} onSignedIn={setSession} />
        ) : (
          <Page route={route} />
        )}
      </main>
    </>
  );
}

startTheme();
render(<App />, document.getElementById("app")!);
