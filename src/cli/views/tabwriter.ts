// Column alignment exactly as Go's text/tabwriter aligns kubectl's output (flags 0, pad char ' '):
// a cell is text terminated by a tab; the text after a line's last tab is not part of any column.
// Column k is aligned over each run of consecutive lines that have a tab-terminated cell k, so a line
// with fewer cells ends the run (this is what gives `kubectl describe` its characteristic layout).

export interface TabOptions {
  /** Smallest column width, padding included. */
  minWidth: number;
  /** Spaces added to the widest cell of a column. */
  padding: number;
}

/** `kubectl get`'s table printer: minwidth 6, padding 3. */
export const GET_TABS: TabOptions = { minWidth: 6, padding: 3 };
/** `kubectl describe`'s tabbedString: minwidth 0, padding 2. */
export const DESCRIBE_TABS: TabOptions = { minWidth: 0, padding: 2 };

/** Width of a cell as Go counts it: code points (runes), not bytes or display columns. */
function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Aligns `text` (lines separated by '\n', cells by '\t') the way a flushed Go tabwriter does. */
export function tabwrite(text: string, opts: TabOptions): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const cells = lines[i];
      let s = '';
      for (let j = 0; j < cells.length; j++) {
        s += cells[j];
        if (j < widths.length) s += ' '.repeat(Math.max(0, widths[j] - runeCount(cells[j])));
      }
      out.push(s);
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let row = line0; row < line1; row++) {
      if (column >= lines[row].length - 1) continue;
      // A cell exists in this column: the lines before it are complete, then a column block begins.
      writeLines(line0, row);
      line0 = row;
      let width = opts.minWidth;
      for (; row < line1; row++) {
        const cells = lines[row];
        if (column >= cells.length - 1) break;
        width = Math.max(width, runeCount(cells[column]) + opts.padding);
      }
      widths.push(width);
      format(line0, row);
      widths.pop();
      line0 = row;
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.join('\n');
}

/** A table: header and rows as cells; the last column is not padded (kubectl's printer). */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, opts: TabOptions = GET_TABS): string {
  return tabwrite([header, ...rows].map((r) => r.join('\t')).join('\n') + '\n', opts);
}

/**
 * Makes a value safe to print inside a table: control characters (a tab or newline would break the
 * layout; an escape sequence would drive the user's terminal) are shown in caret notation (`^[`).
 */
export function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return `^${String.fromCharCode(code + 64)}`;
    return code === 0x7f ? '^?' : `\\x${code.toString(16)}`;
  });
}
