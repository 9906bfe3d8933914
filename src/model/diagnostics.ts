// Diagnostics: every problem Archway finds in user input, with a stable code and a precise location
// (file, line, object, field path), so a user can fix it without guessing (DEVELOPERS.md, "Bad input").

export type Severity = 'error' | 'warning' | 'info';

export interface Origin {
  file: string;
  line: number;
}

export interface Diagnostic {
  /** Stable, documented code, e.g. `INGRESS_INVALID_HOST`. */
  code: string;
  severity: Severity;
  message: string;
  file?: string;
  line?: number;
  /** `Kind namespace/name` of the object, when the problem belongs to one. */
  object?: string;
  /** JSON field path inside the object, e.g. `spec.rules[0].http.paths[1].path`. */
  field?: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.file ? `${d.file}${d.line ? `:${d.line}` : ''}: ` : '';
  const what = d.object ? `${d.object}: ` : '';
  const field = d.field ? `${d.field}: ` : '';
  return `${where}${d.severity} ${d.code}: ${what}${field}${d.message}`;
}

/** Stable ordering so output (and golden files) never depend on discovery order. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    cmp(a.file ?? '', b.file ?? '') ||
    (a.line ?? 0) - (b.line ?? 0) ||
    cmp(a.object ?? '', b.object ?? '') ||
    cmp(a.field ?? '', b.field ?? '') ||
    cmp(a.code, b.code) ||
    cmp(a.message, b.message)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
