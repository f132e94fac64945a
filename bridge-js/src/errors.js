// The public error classes. Their `name` is what crosses the wire (an Error
// travels as name/message/stack/cause/props), so `reviveError` turns a decoded
// error whose name is one of ours back into an instance of our class.

/** Base class: something about the bridge itself went wrong. */
export class BridgeError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = "BridgeError";
  }
}

/**
 * A call could never finish: the callee is blocked waiting for the caller.
 * The message always contains "Possible deadlock" and names both calls.
 */
export class DeadlockError extends BridgeError {
  constructor(message, options) {
    super(message, options);
    this.name = "DeadlockError";
  }
}

/** A call took longer than its time-out; the channel stays usable. */
export class TimeoutError extends BridgeError {
  constructor(message, options) {
    super(message, options);
    this.name = "TimeoutError";
  }
}

/** A blocked call was interrupted before its reply arrived. */
export class InterruptError extends BridgeError {
  constructor(message, options) {
    super(message, options);
    this.name = "InterruptError";
  }
}

/** The worker was terminated, crashed, or the channel was closed. */
export class ClosedError extends BridgeError {
  constructor(message, options) {
    super(message, options);
    this.name = "ClosedError";
  }
}

const CLASSES = {
  BridgeError,
  DeadlockError,
  TimeoutError,
  InterruptError,
  ClosedError,
};

/** Gives a decoded error with one of our names its class back (instanceof). */
export function reviveError(e) {
  if (e instanceof Error) {
    const name = e.name;
    if (typeof name === "string" && Object.hasOwn(CLASSES, name)) {
      const C = CLASSES[name];
      if (!(e instanceof C)) Object.setPrototypeOf(e, C.prototype);
    }
  }
  return e;
}

export function timeoutMessage(what, ms) {
  return `${what} timed out after ${ms} ms; the other side did not answer in time. ` +
    "Raise the `timeout` option of BridgeWorker, or make the callee return sooner.";
}

export function deadlockMessage(nested, blocked) {
  return `Possible deadlock: proxy.${nested}() was awaited while the worker is blocked in proxy.${blocked}()`;
}

/**
 * A rejection reason or thrown value as an Error of this realm with a name,
 * a message and a stack: what both Python interpreters need to raise it
 * (Pyodide takes a JS value as an exception only if it has `name`,
 * `message` and `stack`; docs/pyscript.md "Promises"). An Error with a stack
 * is returned as it is; an Error without one (a DOMException made by the
 * browser has none) gets this thread's; anything else (a string, a plain
 * object, a proxy of a main-thread object) becomes an Error with the
 * reason's `name` and `message` (or its text), the reason as `cause`.
 */
export function asError(reason) {
  if (reason instanceof Error) {
    if (typeof reason.stack !== "string") {
      if (typeof Error.captureStackTrace === "function") Error.captureStackTrace(reason, asError);
      if (typeof reason.stack !== "string") {
        Object.defineProperty(reason, "stack", { value: `${reason.name}: ${reason.message}`, writable: true, configurable: true });
      }
    }
    return reason;
  }
  let name = "Error";
  let message;
  try {
    if (reason !== null && (typeof reason === "object" || typeof reason === "function")) {
      if (typeof reason.name === "string" && reason.name !== "") name = reason.name;
      message = typeof reason.message === "string" ? reason.message : String(reason);
    } else {
      message = String(reason);
    }
  } catch (e) {
    message = `a rejection reason that cannot be read (${e && e.message})`;
  }
  const e = new Error(message, { cause: reason });
  if (name !== "Error") Object.defineProperty(e, "name", { value: name, writable: true, configurable: true });
  return e;
}
