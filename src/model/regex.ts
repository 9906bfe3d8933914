// User regular expressions (ImplementationSpecific paths with use-regex / rewrite-target) run on RE2JS,
// a linear-time engine: no pattern can backtrack catastrophically and stall the process
// (ARCHITECTURE.md rule 1; issue 2 item 7). Unsupported syntax (backreferences, lookaround) is reported.

import { RE2JS } from 're2js';

export type UserRegex = RE2JS;

/** Longest pattern we accept; long patterns are a memory/CPU cost at compile time, never useful in a path. */
export const MAX_PATTERN_LENGTH = 1024;

/**
 * Largest compiled program (RE2 instructions) we accept. Counted repetitions multiply: `a{1000}` repeated
 * in a 1 KiB pattern compiles to ~140k instructions (hundreds of ms to compile, and a slower match on
 * every request). Realistic path patterns are well under a few hundred.
 */
export const MAX_PROGRAM_SIZE = 10_000;

/**
 * The ingress-nginx convention: a path regex is anchored at the start and case-insensitive
 * (`location ~* "^<path>"`). Returns the pattern source shipped in the routing table.
 */
export function pathPatternSource(path: string): string {
  // Grouped, so that every alternative is anchored (`^/a|/b` would find `/b` anywhere); non-capturing,
  // so `$1`..`$n` of rewrite-target still count the user's own groups.
  return `^(?:${path})`;
}

/** Compiles a pattern source, or returns a human-readable reason it cannot be used. */
export function compileUserRegex(source: string, caseInsensitive = true): UserRegex | string {
  if (source.length > MAX_PATTERN_LENGTH) return `regular expression longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    const re = caseInsensitive ? RE2JS.compile(source, RE2JS.CASE_INSENSITIVE) : RE2JS.compile(source);
    if (re.programSize() > MAX_PROGRAM_SIZE) return `regular expression too large (compiles to more than ${MAX_PROGRAM_SIZE} instructions; reduce counted repetitions like {1000})`;
    return re;
  } catch (e) {
    return `unsupported regular expression (Archway uses the linear-time RE2 syntax: no backreferences or lookaround): ${(e as Error).message}`;
  }
}
