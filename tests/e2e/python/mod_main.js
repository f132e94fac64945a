// A config.js_modules.main module: runs on the page.
export const where = typeof document === "object" ? "main" : "worker";
export let counter = 0;
export function bump() {
  counter += 1;
  return counter;
}
export function pageTitle() {
  return document.title;
}
