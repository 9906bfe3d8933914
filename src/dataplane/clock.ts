// A coarse clock and the cached HTTP Date value, advanced by one timer instead of a clock call per
// request (ARCHITECTURE.md rule 4: no needless per-request work).

export const clock = { now: Date.now(), date: new Date().toUTCString() };

let lastSecond = 0;

export function tick(): void {
  const now = Date.now();
  clock.now = now;
  const second = Math.floor(now / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    clock.date = new Date(now).toUTCString();
  }
}
