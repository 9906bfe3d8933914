// Controller glue: source -> build -> compile -> swap (ARCHITECTURE.md "controller/"). Holds the
// current model, table and diagnostics for the admin API and status.

import { build, type BuildOptions, type Model } from '../model/build.ts';
import { compareDiagnostics, formatDiagnostic, type Diagnostic } from '../model/diagnostics.ts';
import { compile } from '../snapshot/compile.ts';
import type { RoutingTable } from '../snapshot/table.ts';
import type { ManifestSource } from './manifest-source.ts';

export interface TableSink {
  setTable(table: RoutingTable): void;
}

export interface ControllerLog {
  diagnostic(d: Diagnostic): void;
  info(msg: string): void;
}

export const stderrLog: ControllerLog = {
  diagnostic: (d) => process.stderr.write(`${formatDiagnostic(d)}\n`),
  info: (msg) => process.stderr.write(`archway: ${msg}\n`),
};

export class Controller {
  readonly source: ManifestSource;
  readonly options: BuildOptions;
  readonly sink: TableSink;
  readonly log: ControllerLog;
  model: Model | null = null;
  table: RoutingTable | null = null;
  diagnostics: Diagnostic[] = [];
  /** True once a first configuration is serving (/readyz). */
  ready = false;
  /** Diagnostics already printed: each problem is reported once (issue 2 item 3). */
  #reported = new Set<string>();

  constructor(source: ManifestSource, options: BuildOptions, sink: TableSink, log: ControllerLog = stderrLog) {
    this.source = source;
    this.options = options;
    this.sink = sink;
    this.log = log;
  }

  /** Builds and compiles from the source's current objects; swaps the table when it changed. */
  sync(): RoutingTable {
    const snap = this.source.snapshot();
    const model = build(snap.store, this.options);
    const table = compile(model);
    this.model = model;
    this.diagnostics = [...snap.diagnostics, ...model.diagnostics].sort(compareDiagnostics);
    this.#report();
    if (this.table === null || this.table.hash !== table.hash) {
      this.sink.setTable(table);
      this.table = table;
      this.log.info(`serving configuration ${table.hash}: ${model.served.length} Ingress(es), ${Object.keys(table.hosts).length + Object.keys(table.wildcards).length} host(s), ${Object.keys(table.backends).length} backend(s)`);
    }
    this.ready = true;
    return table;
  }

  #report(): void {
    const current = new Set<string>();
    for (const d of this.diagnostics) {
      const key = formatDiagnostic(d);
      current.add(key);
      if (!this.#reported.has(key)) this.log.diagnostic(d);
    }
    this.#reported = current;
  }
}
