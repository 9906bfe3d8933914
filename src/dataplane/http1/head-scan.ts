/**
 * Finding the end of a message head (start-line + field lines + empty line) in a read buffer.
 *
 * Framing rules enforced here, before any parsing, so that a connection can be rejected as soon as
 * the offending byte arrives (never "wait for more data" on a message that is already invalid):
 * - A line ends with CRLF only. A bare LF is a line terminator for some parsers and not for others,
 *   the classic source of head/body desynchronisation (RFC 9112 §2.2 allows recipients to accept a bare
 *   LF; a proxy must not, or it would disagree with the origin server). → 400 'BARE_LF'
 * - A CR must be followed by LF (RFC 9112 §2.2: "a recipient of such a bare CR MUST consider that
 *   element to be invalid or replace each bare CR with SP"). → 400 'BARE_CR'
 * - Empty lines before the first non-empty line are skipped (RFC 9112 §2.2: a server "SHOULD ignore at
 *   least one empty line (CRLF) received prior to the request-line"; llhttp ignores any number).
 *   Chosen contract: they stay part of the head. scanHeadEnd returns the end of the first empty line that
 *   follows a non-empty line, and parseRequestHead skips the leading CRLFs itself. They count towards
 *   maxHeadSize. (parseResponseHead does not skip them: from an upstream they mean desynchronisation.)
 *
 * Other control characters are left to the head parser, which validates every byte of the head.
 */
import { HttpParseError } from './errors.ts';

/**
 * Scans buf[from..end) for the end of the head that starts at `start`.
 * Returns the index just past the terminating CRLFCRLF, or -1 when more bytes are needed.
 * `from` is where the previous call stopped (its `end`), or `start` on the first call; the bytes
 * start..from are not rescanned except the last one (a CR whose LF had not arrived yet).
 * Never looks at bytes at or beyond `end`, nor beyond start + maxHeadSize, so the answer depends only on
 * the bytes received, not on how they were split into reads.
 * Throws HttpParseError 'HEAD_TOO_LARGE' (431) when no head end is found in the first maxHeadSize bytes
 * (the head, CRLFCRLF included, may be exactly maxHeadSize bytes long); callers parsing a response should
 * answer 502 instead.
 */
export function scanHeadEnd(buf: Buffer, start: number, from: number, end: number, maxHeadSize: number): number {
  const limit = end - start > maxHeadSize ? start + maxHeadSize : end;
  let i = from > start ? from - 1 : start;
  const limit4 = limit - 4;
  for (;;) {
    // Fast path: skip 4 bytes at a time while none of them is a control byte up to CR (unrolled: ~30%
    // faster than one byte per iteration on typical heads).
    while (i <= limit4 && buf[i] > 13 && buf[i + 1] > 13 && buf[i + 2] > 13 && buf[i + 3] > 13) i += 4;
    if (i >= limit) break;
    const c = buf[i];
    if (c === 10) {
      if (i === start || buf[i - 1] !== 13) {
        throw new HttpParseError('BARE_LF', 400, 'LF without preceding CR in message head');
      }
      // An empty line is CR LF right after the previous line's LF (or at `start`). It ends the head
      // unless every line before it is empty too (leading empty lines, skipped). The previous line
      // ends with CR LF at i-3, i-2 and is empty when its CR is at `start` or right after an LF.
      if (i - 3 > start && buf[i - 2] === 10 && buf[i - 4] !== 10) return i + 1;
    } else if (c === 13) {
      // A CR as the last available byte is decided on the next call (which rescans from from-1).
      if (i + 1 < limit && buf[i + 1] !== 10) {
        throw new HttpParseError('BARE_CR', 400, 'CR not followed by LF in message head');
      }
    }
    i++;
  }
  if (end - start >= maxHeadSize) {
    throw new HttpParseError('HEAD_TOO_LARGE', 431, `message head larger than ${maxHeadSize} bytes`);
  }
  return -1;
}
