// ingress-nginx annotations Archway understands (INGRESS-SEMANTICS.md, "rewrite-target").
// Values become typed settings, never configuration text; an invalid value is reported and that
// annotation alone is ignored, never the whole Ingress.

import type { Diagnostic } from './diagnostics.ts';
import { describeObject } from './objects.ts';
import type { Ingress } from './ingress.ts';

export const NGINX_PREFIX = 'nginx.ingress.kubernetes.io/';

export interface IngressSettings {
  /** ImplementationSpecific paths are anchored, case-insensitive regexes. */
  useRegex: boolean;
  rewriteTarget: string | undefined;
  appRoot: string | undefined;
  xForwardedPrefix: string | undefined;
  /** ssl-redirect (default true): plain HTTP to a TLS host answers 308 to https. */
  sslRedirect: boolean;
  /** force-ssl-redirect (default false): redirect even hosts without TLS. */
  forceSslRedirect: boolean;
}

// ingress-nginx's rewrite-target charset (its annotation validator): letters, digits, - . _ ~ / : $
// Non-empty: ingress-nginx rejects an empty annotation value (an empty target would send an empty path upstream).
const REWRITE_TARGET_RE = /^[A-Za-z0-9\-._~/:$]+$/;
const APP_ROOT_RE = /^\/[A-Za-z0-9\-._~/]*$/;
const FORWARDED_PREFIX_RE = /^[A-Za-z0-9\-._~/:]+$/;

/** Reports a problem with one annotation (full key) of `ing`. */
export type AnnotationWarn = (key: string, message: string, code?: string, severity?: Diagnostic['severity']) => void;

/**
 * The diagnostic for an annotation problem: `ANNOTATION_INVALID` warning by default, located at
 * `metadata.annotations["<key>"]`. The message says what happens (e.g. "...; annotation ignored").
 */
export function annotationWarner(ing: Ingress, diags: Diagnostic[]): AnnotationWarn {
  return (key, message, code = 'ANNOTATION_INVALID', severity = 'warning') =>
    diags.push({
      code,
      severity,
      message,
      file: ing.source.origin?.file,
      line: ing.source.origin?.line,
      object: describeObject(ing.source),
      field: `metadata.annotations[${JSON.stringify(key)}]`,
    });
}

export function readSettings(ing: Ingress, diags: Diagnostic[]): IngressSettings {
  // Pure in the Ingress (itself memoised per stored object): read once per object version.
  let memo = settingsMemo.get(ing);
  if (memo === undefined) {
    const own: Diagnostic[] = [];
    memo = { settings: readSettingsUncached(ing, own), diags: own };
    settingsMemo.set(ing, memo);
  }
  for (const d of memo.diags) diags.push(d);
  return memo.settings;
}

const settingsMemo = new WeakMap<Ingress, { settings: IngressSettings; diags: Diagnostic[] }>();

function readSettingsUncached(ing: Ingress, diags: Diagnostic[]): IngressSettings {
  const a = ing.annotations;
  const report = annotationWarner(ing, diags);
  const warn = (key: string, message: string) => report(key, `${message}; annotation ignored`);

  const pick = (name: string, re: RegExp, what: string): string | undefined => {
    const key = NGINX_PREFIX + name;
    const v = a[key];
    if (v === undefined) return undefined;
    if (!re.test(v)) {
      warn(key, `${JSON.stringify(v)}: ${what}`);
      return undefined;
    }
    return v;
  };

  const flag = (name: string, dflt: boolean): boolean => {
    const key = NGINX_PREFIX + name;
    const v = a[key];
    if (v === undefined) return dflt;
    if (v === 'true' || v === 'false') return v === 'true';
    warn(key, `${JSON.stringify(v)}: must be "true" or "false"`);
    return dflt;
  };
  return {
    useRegex: flag('use-regex', false),
    sslRedirect: flag('ssl-redirect', true),
    forceSslRedirect: flag('force-ssl-redirect', false),
    rewriteTarget: pick('rewrite-target', REWRITE_TARGET_RE, 'may only contain A-Z a-z 0-9 - . _ ~ / : $'),
    appRoot: pick('app-root', APP_ROOT_RE, 'must be an absolute path of A-Z a-z 0-9 - . _ ~ /'),
    xForwardedPrefix: pick('x-forwarded-prefix', FORWARDED_PREFIX_RE, 'may only contain A-Z a-z 0-9 - . _ ~ / :'),
  };
}
