// Events modelled on Kubernetes core/v1 Event: repeated identical events bump `count` and
// `lastTimestamp` instead of piling up; memory is bounded (issue 4 item 7).

export type EventType = 'Normal' | 'Warning';

export interface InvolvedObject {
  kind: string;
  namespace: string;
  name: string;
}

export interface ArchwayEvent {
  apiVersion: 'v1';
  kind: 'Event';
  metadata: { name: string; namespace: string };
  involvedObject: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: 'archway' };
}

export const DEFAULT_EVENT_LIMIT = 1000;

export class EventRecorder {
  readonly limit: number;
  /** Insertion order = least recently updated first (re-inserted on update), so eviction drops the stalest. */
  #events = new Map<string, ArchwayEvent>();
  #seq = 0;
  #now: () => Date;

  constructor(limit = DEFAULT_EVENT_LIMIT, now: () => Date = () => new Date()) {
    this.limit = limit;
    this.#now = now;
  }

  record(involved: InvolvedObject, type: EventType, reason: string, message: string): ArchwayEvent {
    const key = `${involved.kind}\n${involved.namespace}\n${involved.name}\n${type}\n${reason}\n${message}`;
    const ts = this.#now().toISOString();
    const existing = this.#events.get(key);
    if (existing) {
      existing.count++;
      existing.lastTimestamp = ts;
      this.#events.delete(key);
      this.#events.set(key, existing);
      return existing;
    }
    const e: ArchwayEvent = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${involved.name}.${(++this.#seq).toString(16).padStart(8, '0')}`, namespace: involved.namespace || 'default' },
      involvedObject: { ...involved },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: ts,
      lastTimestamp: ts,
      source: { component: 'archway' },
    };
    this.#events.set(key, e);
    while (this.#events.size > this.limit) this.#events.delete(this.#events.keys().next().value!);
    return e;
  }

  /** Events, oldest last-update first; optionally for one namespace or one object. */
  list(filter: { namespace?: string; kind?: string; name?: string } = {}): ArchwayEvent[] {
    const out: ArchwayEvent[] = [];
    for (const e of this.#events.values()) {
      if (filter.namespace !== undefined && e.involvedObject.namespace !== filter.namespace) continue;
      if (filter.kind !== undefined && e.involvedObject.kind !== filter.kind) continue;
      if (filter.name !== undefined && e.involvedObject.name !== filter.name) continue;
      out.push(e);
    }
    return out.sort((a, b) => (a.lastTimestamp < b.lastTimestamp ? -1 : a.lastTimestamp > b.lastTimestamp ? 1 : 0));
  }

  get size(): number {
    return this.#events.size;
  }
}
