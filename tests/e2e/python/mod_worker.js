// A config.js_modules.worker module: runs in the worker.
export const where = typeof document === "object" ? "main" : "worker";
export function double(x) {
  return x * 2;
}
