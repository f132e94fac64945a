// Imported on the page by the worker's `window.import("./module.js")`
// (tests/e2e/coincident.test.mjs): it runs in the page, not in the worker.
export default "imported on the page";
export const where = typeof document === "object" ? document.title : "not the page";
