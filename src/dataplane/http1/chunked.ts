/**
 * Incremental, validating scanner for the chunked transfer coding (RFC 9112 §7.1), used to forward a
 * chunked body byte for byte while knowing exactly where it ends.
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size   = 1*HEXDIG
 *   last-chunk   = 1*("0") [ chunk-ext ] CRLF
 *   chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *
 * Stricter than the grammar where parsers are known to disagree (the chunk-size line is where
 * TE.TE / chunk-size smuggling lives): no whitespace anywhere in the size line (BWS is not accepted,
 * llhttp rejects it too), no "0x" prefix, no sign, at most 16 hex digits and at most 2^53-1, CRLF only
 * (no bare LF/CR), exactly CRLF after the chunk data, trailer field lines valid as header field lines
 * (no obs-fold, no whitespace before ':').
 */
import { HttpParseError } from './errors.ts';
import { FIELD_VALUE, TCHAR } from './headers-util.ts';

const SIZE_START = 0;
const SIZE = 1;
const EXT_NAME_START = 2;
const EXT_NAME = 3;
const EXT_VAL_START = 4;
const EXT_VAL_TOKEN = 5;
const EXT_QUOTED = 6;
const EXT_QUOTED_ESC = 7;
const EXT_AFTER_QUOTED = 8;
const SIZE_LF = 9;
const DATA = 10;
const DATA_CR = 11;
const DATA_LF = 12;
const TRAILER_START = 13;
const TRAILER_NAME = 14;
const TRAILER_VALUE = 15;
const TRAILER_LF = 16;
const FINAL_LF = 17;
const DONE = 18;

/** Hex digit value + 1 (0 = not a hex digit). */
const HEX = new Uint8Array(256);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c + 1;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = c + 11;
  HEX[0x61 + c] = c + 11;
}
/** qdtext (RFC 9110 §5.6.4): HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text. */
const QDTEXT = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  QDTEXT[c] = c === 9 || c === 0x20 || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80 ? 1 : 0;
}

const DEFAULT_MAX_LINE = 8 * 1024;
const DEFAULT_MAX_TRAILER = 64 * 1024;

function invalid(message: string): HttpParseError {
  return new HttpParseError('INVALID_CHUNK', 400, message);
}

export class ChunkedScanner {
  /** True once the last-chunk, the trailer section and the final CRLF have been consumed. */
  done = false;
  /** Receives chunk-data ranges (never the framing) when set. */
  onData: ((buf: Buffer, start: number, end: number) => void) | null = null;
  /** Total chunk-data bytes seen so far in the current message. */
  bodyBytes = 0;

  private state = SIZE_START;
  private size = 0;
  private digits = 0;
  private lineLen = 0;
  private trailerLen = 0;
  private readonly maxLine: number;
  private readonly maxTrailer: number;

  /**
   * @param maxLineLength cap on a chunk-size line (with extensions) and on each trailer line, CRLF included.
   * @param maxTrailerSize cap on the whole trailer section.
   */
  constructor(maxLineLength: number = DEFAULT_MAX_LINE, maxTrailerSize: number = DEFAULT_MAX_TRAILER) {
    this.maxLine = maxLineLength;
    this.maxTrailer = maxTrailerSize;
  }

  /** Prepares for the next message. Keeps onData. */
  reset(): void {
    this.done = false;
    this.bodyBytes = 0;
    this.state = SIZE_START;
    this.size = 0;
    this.digits = 0;
    this.lineLen = 0;
    this.trailerLen = 0;
  }

  /**
   * Consumes bytes of buf[start..end) that belong to the current chunked body and returns how many;
   * fewer than end-start only when the body ended (done) and the rest belongs to the next message.
   * Throws HttpParseError 'INVALID_CHUNK' (400); the scanner is then unusable until reset().
   */
  push(buf: Buffer, start: number, end: number): number {
    let state = this.state;
    if (state === DONE) return 0;
    let i = start;
    let size = this.size;
    let lineLen = this.lineLen;
    const maxLine = this.maxLine;
    while (i < end) {
      if (state === DATA) {
        const avail = end - i;
        const n = avail < size ? avail : size;
        const onData = this.onData;
        if (onData !== null) onData(buf, i, i + n);
        i += n;
        size -= n;
        this.bodyBytes += n;
        if (size === 0) state = DATA_CR;
        continue;
      }
      const c = buf[i++];
      if (++lineLen > maxLine) throw invalid('chunk-size or trailer line too long');
      switch (state) {
        case SIZE_START: {
          const h = HEX[c];
          if (h === 0) throw invalid('chunk size is not a hex number');
          size = h - 1;
          this.digits = 1;
          state = SIZE;
          break;
        }
        case SIZE: {
          const h = HEX[c];
          if (h !== 0) {
            if (++this.digits > 16) throw invalid('chunk size has too many digits');
            size = size * 16 + (h - 1);
            if (size > Number.MAX_SAFE_INTEGER) throw invalid('chunk size too large');
          } else if (c === 13) {
            state = SIZE_LF;
          } else if (c === 59) {
            state = EXT_NAME_START;
          } else {
            throw invalid('invalid character after chunk size');
          }
          break;
        }
        case EXT_NAME_START:
          if (TCHAR[c] !== 1) throw invalid('invalid chunk extension name');
          state = EXT_NAME;
          break;
        case EXT_NAME:
          if (TCHAR[c] === 1) break;
          if (c === 61) state = EXT_VAL_START;
          else if (c === 59) state = EXT_NAME_START;
          else if (c === 13) state = SIZE_LF;
          else throw invalid('invalid chunk extension');
          break;
        case EXT_VAL_START:
          if (TCHAR[c] === 1) state = EXT_VAL_TOKEN;
          else if (c === 34) state = EXT_QUOTED;
          else throw invalid('invalid chunk extension value');
          break;
        case EXT_VAL_TOKEN:
          if (TCHAR[c] === 1) break;
          if (c === 59) state = EXT_NAME_START;
          else if (c === 13) state = SIZE_LF;
          else throw invalid('invalid chunk extension value');
          break;
        case EXT_QUOTED:
          if (c === 34) state = EXT_AFTER_QUOTED;
          else if (c === 92) state = EXT_QUOTED_ESC;
          else if (QDTEXT[c] !== 1) throw invalid('invalid character in quoted chunk extension');
          break;
        case EXT_QUOTED_ESC:
          // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
          if (FIELD_VALUE[c] !== 1) throw invalid('invalid quoted-pair in chunk extension');
          state = EXT_QUOTED;
          break;
        case EXT_AFTER_QUOTED:
          if (c === 59) state = EXT_NAME_START;
          else if (c === 13) state = SIZE_LF;
          else throw invalid('invalid character after quoted chunk extension');
          break;
        case SIZE_LF:
          if (c !== 10) throw invalid('CR not followed by LF in chunk-size line');
          lineLen = 0;
          state = size === 0 ? TRAILER_START : DATA;
          break;
        case DATA_CR:
          if (c !== 13) throw invalid('chunk data not followed by CRLF');
          state = DATA_LF;
          break;
        case DATA_LF:
          if (c !== 10) throw invalid('chunk data not followed by CRLF');
          lineLen = 0;
          state = SIZE_START;
          break;
        case TRAILER_START:
          if (c === 13) state = FINAL_LF;
          else if (TCHAR[c] === 1) state = TRAILER_NAME;
          else throw invalid('invalid trailer field line');
          break;
        case TRAILER_NAME:
          if (TCHAR[c] === 1) break;
          if (c !== 58) throw invalid('invalid trailer field name');
          state = TRAILER_VALUE;
          break;
        case TRAILER_VALUE:
          if (FIELD_VALUE[c] === 1) break;
          if (c !== 13) throw invalid('invalid character in trailer field value');
          state = TRAILER_LF;
          break;
        case TRAILER_LF:
          if (c !== 10) throw invalid('CR not followed by LF in trailer section');
          this.trailerLen += lineLen;
          if (this.trailerLen > this.maxTrailer) throw invalid('trailer section too large');
          lineLen = 0;
          state = TRAILER_START;
          break;
        case FINAL_LF:
          if (c !== 10) throw invalid('CR not followed by LF at end of chunked body');
          state = DONE;
          this.done = true;
          this.state = DONE;
          this.size = 0;
          this.lineLen = 0;
          return i - start;
      }
    }
    this.state = state;
    this.size = size;
    this.lineLen = lineLen;
    return i - start;
  }
}
