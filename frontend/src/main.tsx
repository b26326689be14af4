// The studio: a single-page app over the runhistory REST API.
import { render } from "preact";
import { useEffect } from "preact/hooks";
import { resetFirstChartMark } from "./charts/Chart";
import { setTheme, startTheme, useTheme } from "./lib/theme";
import { ComparePage } from "./pages/Compare";
import { ExperimentsPage } from "./pages/Experiments";
import { RunPage } from "./pages/Run";
import { RunsPage } from "./pages/Runs";
import { type Route, href, useRoute } from "./router";
import "./style.css";

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "experiments":
      return <ExperimentsPage />;
    case "runs":
      return <RunsPage key={route.experimentId} experimentId={route.experimentId} />;
    case "run":
      return <RunPage key={route.runId} experimentId={route.experimentId} runId={route.runId} tab={route.tab} />;
    case "compare":
      return <ComparePage key={route.runIds.join(",")} experimentId={route.experimentId} runIds={route.runIds} />;
    default:
      return (
        <p class="error" role="alert">
          No page at “{route.path}”. <a href={href.experiments()}>Back to the experiments</a>
        </p>
      );
  }
}

function App() {
  const route = useRoute();
  const theme = useTheme();
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
        </nav>
        <button
          class="theme-toggle"
          onClick={() => setTheme(theme === "dark" ? "light" : "dark")}
          aria-label={`switch to ${theme === "dark" ? "light" : "dark"} theme`}
        >
          {theme === "dark" ? "☀ light" : "☾ dark"}
        </button>
      </header>
      <main id="main">
        <Page route={route} />
      </main>
    </>
  );
}

startTheme();
render(<App />, document.getElementById("app")!);
