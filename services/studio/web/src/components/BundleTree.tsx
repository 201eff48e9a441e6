// A bundle (any JSON value) as an expandable tree. Every value is rendered as React text, so
// markup inside payloads is shown, never interpreted.

interface Props {
  value: unknown;
  label?: string;
  open?: boolean;
  depth?: number;
}

const OPEN_LEVELS = 3; // bundles are small: show their first levels without a click

function summary(value: unknown): string {
  if (Array.isArray(value)) return `Array (${value.length})`;
  if (value !== null && typeof value === "object") return `Collection (${Object.keys(value).length})`;
  return "";
}

function scalar(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value);
}

export function BundleTree({ value, label, open, depth = 0 }: Props) {
  const isContainer = value !== null && typeof value === "object";
  if (!isContainer) {
    return (
      <div className="tree-leaf">
        {label !== undefined && <span className="tree-key">{label}: </span>}
        <span className={`tree-value tree-${value === null ? "null" : typeof value}`}>{scalar(value)}</span>
      </div>
    );
  }
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((item, index) => [String(index + 1), item])
    : Object.entries(value as Record<string, unknown>);
  return (
    <details className="tree-node" open={open ?? depth < OPEN_LEVELS}>
      <summary>
        {label !== undefined && <span className="tree-key">{label}</span>} <span className="tree-kind">{summary(value)}</span>
      </summary>
      <div className="tree-children">
        {entries.map(([key, item]) => (
          <BundleTree key={key} label={key} value={item} depth={depth + 1} />
        ))}
      </div>
    </details>
  );
}
