// Parse one manifest file's text into stored objects, with line numbers, never throwing on bad input
// (issue 2 item 3: multi-document YAML, `kind: List`, JSON; unknown kinds reported as ignored).

import { CORE_SCHEMA, load as loadYaml } from 'js-yaml';
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { Diagnostic } from '../model/diagnostics.ts';
import { API_VERSIONS, CLUSTER_SCOPED, KNOWN_KINDS, asObject, type JsonObject, type Kind, type StoredObject } from '../model/objects.ts';
import { compactDocument, rememberFingerprint } from '../model/fingerprint.ts';

export interface ParsedFile {
  objects: StoredObject[];
  diagnostics: Diagnostic[];
}

/** Largest YAML alias expansion we allow (protects against "billion laughs" documents). */
const MAX_ALIAS_COUNT = 100;

/**
 * Manifests are parsed document by document. The common case (a valid document, no aliases, not a
 * List) goes through js-yaml, about ten times faster than `yaml` (10,000 Ingresses: 1.1 s instead of
 * 12 s; issue 4 item 10). Anything else (a syntax error, duplicate keys, aliases, a `kind: List` whose
 * items need their own line numbers) is parsed again by `yaml`, which reports precise positions and
 * bounds alias expansion. Both use the YAML 1.2 core schema, so values come out the same.
 */
export function parseManifestText(text: string, file: string): ParsedFile {
  const out: ParsedFile = { objects: [], diagnostics: [] };
  for (const chunk of splitDocuments(text)) {
    if (!ALIAS_OR_DIRECTIVE.test(chunk.text)) {
      let value: unknown;
      try {
        value = loadYaml(chunk.text, { schema: CORE_SCHEMA });
      } catch {
        parseSlow(chunk.text, chunk.firstLine - 1, file, out);
        continue;
      }
      if (value === null || value === undefined) continue; // empty document: skipped, as kubectl does
      if (asObject(value)?.kind !== 'List') {
        addObject(value, file, chunk.contentLine, out);
        continue;
      }
    }
    parseSlow(chunk.text, chunk.firstLine - 1, file, out);
  }
  return out;
}

/** `*alias` uses (billion-laughs material) and `%` directives: left to the `yaml` parser. */
const ALIAS_OR_DIRECTIVE = /(^|[\s[{,:-])\*[A-Za-z0-9_]|^%/m;

interface Chunk {
  text: string;
  /** 1-based line of the chunk's first line in the file. */
  firstLine: number;
  /** 1-based line of the document's first content line (what diagnostics point at). */
  contentLine: number;
}

/** Splits at `---` document markers (column 0); each chunk keeps its marker line. */
function splitDocuments(text: string): Chunk[] {
  const chunks: Chunk[] = [];
  const lines = text.split('\n');
  let start = 0;
  const push = (end: number) => {
    if (end <= start) return;
    let contentLine = start + 1;
    for (let i = start; i < end; i++) {
      const l = lines[i];
      if (/^\s*(#.*)?\r?$/.test(l) || /^---\s*(#.*)?\r?$/.test(l)) continue;
      contentLine = i + 1;
      break;
    }
    chunks.push({ text: lines.slice(start, end).join('\n'), firstLine: start + 1, contentLine });
  };
  for (let i = 0; i < lines.length; i++) {
    if (i > start && lines[i].startsWith('---') && /^---(\s|$)/.test(lines[i])) {
      push(i);
      start = i;
    }
  }
  push(lines.length);
  return chunks;
}

/** The `yaml` parser over one chunk, lines shifted by `offset`: exact error positions, List item lines. */
function parseSlow(text: string, offset: number, file: string, out: ParsedFile): void {
  const lc = new LineCounter();
  const lineOf = (pos: number): number => lc.linePos(pos).line + offset;
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true }) as Document.Parsed[];
  } catch (e) {
    out.diagnostics.push({ code: 'MANIFEST_PARSE_ERROR', severity: 'error', message: (e as Error).message, file });
    return;
  }
  if (!Array.isArray(docs)) docs = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      const seen = new Set<string>(); // the parser may report one mistake several times at one line
      for (const err of doc.errors) {
        const line = (err.linePos?.[0]?.line ?? lc.linePos(err.pos[0]).line) + offset;
        const key = `${line}\n${firstLine(err.message)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.diagnostics.push({ code: 'MANIFEST_PARSE_ERROR', severity: 'error', message: `${firstLine(err.message)}; document skipped`, file, line });
      }
      continue;
    }
    if (doc.contents === null) continue; // empty document (e.g. a trailing '---')
    const line = lineOf(doc.contents.range[0]);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      out.diagnostics.push({ code: 'MANIFEST_PARSE_ERROR', severity: 'error', message: `${(e as Error).message}; document skipped`, file, line });
      continue;
    }
    // An empty document (`---` twice, a trailing `---`, only comments) parses as a null scalar: skip it, as kubectl does.
    if (value === null || value === undefined) continue;
    const obj = asObject(value);
    if (obj && obj.kind === 'List') {
      const itemsNode = isMap(doc.contents) ? doc.contents.get('items', true) : undefined;
      const items = Array.isArray(obj.items) ? obj.items : [];
      items.forEach((item, i) => {
        const node = isSeq(itemsNode) ? (itemsNode.items[i] as { range?: [number, number, number] } | undefined) : undefined;
        const itemLine = node?.range ? lineOf(node.range[0]) : line;
        addObject(item, file, itemLine, out);
      });
      continue;
    }
    addObject(value, file, line, out);
  }
}

function addObject(value: unknown, file: string, line: number, out: ParsedFile): void {
  const bad = (code: string, message: string, field?: string, object?: string): void =>
    void out.diagnostics.push({ code, severity: 'error', message: `${message}; object skipped`, file, line, field, object });
  const parsed = asObject(value);
  if (!parsed) return bad('MANIFEST_NOT_AN_OBJECT', 'a manifest document must be a mapping with apiVersion, kind and metadata');
  // Everything kept below comes from the compact copy, never from the parser's output (see fingerprint.ts).
  const { raw: obj, fingerprint } = compactDocument(parsed);
  const kind = obj.kind;
  if (typeof kind !== 'string' || kind === '') return bad('MANIFEST_NO_KIND', 'kind is required', 'kind');
  const meta = asObject(obj.metadata);
  const name = meta?.name;
  const label = typeof name === 'string' ? `${kind} ${name}` : kind;
  if (!(KNOWN_KINDS as readonly string[]).includes(kind)) {
    out.diagnostics.push({ code: 'MANIFEST_KIND_IGNORED', severity: 'info', message: `kind ${JSON.stringify(kind)} is not used by an ingress controller; ignored`, file, line, object: label });
    return;
  }
  const k = kind as Kind;
  const apiVersion = obj.apiVersion;
  if (typeof apiVersion !== 'string' || !API_VERSIONS[k].includes(apiVersion)) {
    return bad('MANIFEST_BAD_API_VERSION', `apiVersion ${JSON.stringify(apiVersion ?? null)} is not one of ${API_VERSIONS[k].join(', ')}`, 'apiVersion', label);
  }
  if (!meta) return bad('MANIFEST_NO_METADATA', 'metadata is required', 'metadata', label);
  if (typeof name !== 'string' || name === '') return bad('MANIFEST_NO_NAME', 'metadata.name is required', 'metadata.name', label);
  let namespace = '';
  if (!CLUSTER_SCOPED.has(k)) {
    const ns = meta.namespace;
    if (ns === undefined || ns === null || ns === '') namespace = 'default';
    else if (typeof ns !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns) || ns.length > 63) {
      return bad('MANIFEST_BAD_NAMESPACE', 'metadata.namespace must be a DNS-1123 label', 'metadata.namespace', label);
    } else namespace = ns;
  }
  const stored: StoredObject = { kind: k, apiVersion, namespace, name, raw: obj, origin: { file, line } };
  rememberFingerprint(stored, fingerprint);
  out.objects.push(stored);
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}
