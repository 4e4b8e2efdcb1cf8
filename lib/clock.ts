// The one wall clock of lib/ (the server side; the browser client keeps its own Date.now): every
// module reads the time through these two functions. Seconds are whole (RFC 7519 §2 NumericDate, as in
// JWT `iat`/`exp` and cookie expiries); where a fraction of a second matters, divide nowMs() by 1000.
// There is no fake clock here on purpose: code that must be tested at a chosen time takes `now` as a
// parameter (defaulting to this clock), and tests pass it. Durations use performance.now(), not this.

/** Milliseconds since the epoch. */
export function nowMs(): number {
  return Date.now();
}

/** Whole seconds since the epoch. */
export function nowSeconds(): number {
  return Math.floor(nowMs() / 1000);
}
