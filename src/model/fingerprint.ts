// Content fingerprints of stored objects, and the compact copy of a parsed document.
//
// Why a copy: a YAML parser's string values are slices of the document text, so a parsed object keeps
// its whole document alive, and repeated values ("http", "Prefix", "TCP") are separate strings. At
// 10,000 Ingresses that was ~35 MB of the source's 93 MB heap (issue 4 item 10, the 300 MB target).
// A JSON round trip gives fresh flat strings (V8 internalizes the short ones) and the JSON text it
// produces is hashed once for the change detection; only the 27-character hash is kept.

import { hash } from 'node:crypto';
import type { JsonObject, StoredObject } from './objects.ts';

const fingerprints = new WeakMap<StoredObject, string>();

/** A parsed document as compact plain data, and the fingerprint of its content. */
export function compactDocument(value: JsonObject): { raw: JsonObject; fingerprint: string } {
  const json = JSON.stringify(value);
  return { raw: JSON.parse(json) as JsonObject, fingerprint: hash('sha1', json, 'base64') };
}

/** Records the fingerprint computed while parsing `o`. */
export function rememberFingerprint(o: StoredObject, fp: string): void {
  fingerprints.set(o, fp);
}

/** Equal fingerprints mean equal content; computed once per object (unchanged files keep their objects). */
export function fingerprint(o: StoredObject): string {
  let fp = fingerprints.get(o);
  if (fp === undefined) fingerprints.set(o, (fp = hash('sha1', JSON.stringify(o.raw), 'base64')));
  return fp;
}
