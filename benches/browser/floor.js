// Shared layout of the hand-written Atomics floor (one SharedArrayBuffer per
// worker) and the op codes both floors use. No library code: this is the
// least a worker->main blocking call can cost in this browser.

// Int32 slots
export const REQ = 0;   // worker->main request sequence (worker writes)
export const RES = 1;   // worker->main reply sequence (main writes)
export const OP = 2;
export const A = 3;
export const B = 4;
export const R = 5;     // int result or byte length of the result
export const M_REQ = 6; // main->worker request sequence (main writes)
export const M_RES = 7; // main->worker reply sequence (worker writes)
export const M_OP = 8;
export const M_A = 9;
export const M_B = 10;
export const M_R = 11;
export const FAILED = -0x80000000; // R when the main handler threw
export const DATA = 64;                 // byte offset of the payload area
export const DATA_BYTES = 2 * 1024 * 1024;

export const OPS = {
  ADD: 1, STR: 2, F64: 3, TITLE: 4, BOX: 5, CREATE: 6, TEXT: 7, STYLE: 8, APPEND: 9,
  M_ADD: 1, M_QUIT: 2,
};

// How long (ms) a worker polls for the reply before it parks in Atomics.wait.
export const SPIN_MS = 0.1;
// How long main polls for the next request after a reply before it parks in
// Atomics.waitAsync (ms). Bounded, and only right after serving a request.
export const MAIN_POLL_MS = 0.05;
