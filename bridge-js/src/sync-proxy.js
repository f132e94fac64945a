// The `sync` object of both sides: assigning a function exposes it to the
// other side; reading a name gives a caller for what the other side exposed.
// `makeCaller(name)` decides how a call travels (blocking on a worker with
// the atomics transport, a Promise otherwise); callers are cached per name.

export function makeSyncProxy(ep, makeCaller) {
  const callers = new Map();
  return new Proxy(Object.create(null), {
    get(_, name) {
      // `then` reads as undefined so `await sync` does not hang.
      if (typeof name !== "string" || name === "then") return undefined;
      let f = callers.get(name);
      if (f === undefined) {
        f = makeCaller(name);
        callers.set(name, f);
      }
      return f;
    },
    set(_, name, fn) {
      if (typeof name !== "string") throw new TypeError("sync names must be strings");
      ep.expose(name, fn);
      return true;
    },
    has(_, name) {
      return ep.exposed.has(name);
    },
    deleteProperty(_, name) {
      ep.exposed.delete(name);
      return true;
    },
    ownKeys() {
      return [...ep.exposed.keys()];
    },
    getOwnPropertyDescriptor(_, name) {
      const fn = ep.exposed.get(name);
      return fn === undefined ? undefined : { value: fn, writable: true, enumerable: true, configurable: true };
    },
  });
}
