// Messages between the primary (controller) and data-plane worker processes. The routing table
// travels as plain data; this is the only path by which configuration reaches a worker (issue 3 item 1).

import type { DataPlaneOptions, DataPlaneStats } from '../dataplane/dataplane.ts';
import type { EndpointEvent } from '../dataplane/backends.ts';
import type { RoutingTable } from '../snapshot/table.ts';
import type { TableDelta } from '../snapshot/delta.ts';

export interface ListenSpec {
  host: string;
  port: number;
}

export type ToWorker =
  | { type: 'init'; options: DataPlaneOptions; http: ListenSpec; https: ListenSpec | null }
  | { type: 'table'; table: RoutingTable }
  | { type: 'delta'; delta: TableDelta }
  | { type: 'stats'; id: number }
  | { type: 'drain'; graceMs: number };

export type FromWorker =
  | { type: 'listening'; port: number; httpsPort: number }
  | { type: 'applied'; hash: string }
  /** A delta did not match the worker's table: it needs the whole table. */
  | { type: 'resync'; hash: string }
  | { type: 'stats'; id: number; stats: DataPlaneStats & { openConnections: number; idleUpstreamConnections: number } }
  | { type: 'drained' }
  | { type: 'endpoint'; event: EndpointEvent }
  | { type: 'error'; message: string };
