// A metric that is not a line: drawn by its kind (table, row, image, structured), from its value.
import { Images } from "./Images";
import { AccuracyTable, ConfusionMatrix, Predictions, Residuals } from "./Structured";
import { TableMetric } from "./TableMetric";

interface Props {
  name: string;
  kind: string;
  /** The value in the get_metrics() shape. */
  value: unknown;
  runId: string;
  /** Where an image file of the run is served; without it images are listed by name. */
  fileUrl?: (runId: string, file: string) => string;
}

export function DocumentMetric({ name, kind, value, runId, fileUrl }: Props) {
  const latest = Array.isArray(value) && kind !== "image" ? value.at(-1) : value;
  switch (kind) {
    case "row":
    case "table":
      return <TableMetric name={name} value={value} />;
    case "image":
      return <Images name={name} value={value} runId={runId} fileUrl={fileUrl} />;
    case "confusion_matrix":
      return <ConfusionMatrix name={name} doc={latest} />;
    case "accuracy_table":
      return <AccuracyTable name={name} doc={latest} />;
    case "residuals":
      return <Residuals name={name} doc={latest} />;
    case "predictions":
      return <Predictions name={name} doc={latest} />;
    default:
      return (
        <figure class="card chart-card" data-metric={name}>
          <figcaption><span class="metric-name">{name}</span></figcaption>
          <pre>{JSON.stringify(value, null, 2)}</pre>
        </figure>
      );
  }
}
