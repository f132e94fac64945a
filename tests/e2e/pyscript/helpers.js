// Page functions the Python scripts of tests/e2e/pyscript call (main=helpers.js).
window.rejectSoon = (message) => new Promise((_, reject) => setTimeout(() => reject(new Error(message)), 10));
window.resolveSoon = (value) => new Promise((resolve) => setTimeout(() => resolve(value), 10));
window.throwNow = (message) => {
  throw new TypeError(message);
};
