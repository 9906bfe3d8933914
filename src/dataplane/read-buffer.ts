// One shared read buffer for all upstream sockets (net `onread`): reads land in memory we own instead
// of a fresh 64 KiB allocation plus a Readable stream push per read. Handlers run synchronously, so one
// buffer serves every socket, as long as nothing keeps a reference past the handler: whoever hands a
// slice to a write that did not complete synchronously must call lend(), and the next read gets a
// fresh buffer.

/** Larger reads mean fewer syscalls for large bodies (issue 3: 1 MiB responses). */
export const READ_BUFFER_SIZE = 256 * 1024;

let current = Buffer.allocUnsafe(READ_BUFFER_SIZE);
let lent = false;

/** The buffer for the next read (net calls this after every read). */
export function nextReadBuffer(): Buffer {
  if (lent) {
    current = Buffer.allocUnsafe(READ_BUFFER_SIZE);
    lent = false;
  }
  return current;
}

/** A slice of the current buffer is still referenced (queued write, retained partial head). */
export function lendReadBuffer(): void {
  lent = true;
}
