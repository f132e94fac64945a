// A module PyScript loads on the page (config js_modules.main) for a worker
// to use through `from pyscript.js_modules import jsmod`.
export const greet = (name) => `hello ${name} from a page module`;
