// webpack production build of tests/bundlers/app, as docs/api.md
// ("Bundlers") tells a user to set it up.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import webpack from "webpack";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export default {
  mode: "production",
  context: here("./app"),
  entry: "./main.js",
  // ES module output: the worker is a module worker (`type: "module"`),
  // where webpack's default chunk loading for workers, importScripts(),
  // does not exist (the service-worker transport is such a chunk).
  experiments: { outputModule: true },
  output: { path: here("./.build/webpack"), clean: true, module: true, filename: "[name].js", chunkFilename: "[id].js" },
  module: {
    parser: {
      javascript: {
        // Bundle the script of `new BridgeWorker(new URL(...), ...)` as
        // webpack bundles `new Worker(new URL(...))`.
        worker: ["BridgeWorker from worker-bridge", "..."],
      },
    },
  },
  plugins: [
    {
      // index.html and the service worker script beside the bundle (webpack
      // writes neither by itself; html-webpack-plugin and
      // copy-webpack-plugin are the usual tools).
      apply(compiler) {
        compiler.hooks.thisCompilation.tap("app-files", (compilation) => {
          compilation.hooks.processAssets.tap(
            { name: "app-files", stage: webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL },
            () => {
              const { RawSource } = webpack.sources;
              compilation.emitAsset("index.html", new RawSource(readFileSync(here("./app/index.html"))));
              // As it is: `minimized` keeps the minifier off it.
              compilation.emitAsset(
                "bridge-sw.js",
                new RawSource(readFileSync(fileURLToPath(import.meta.resolve("worker-bridge/sw")))),
                { minimized: true },
              );
            },
          );
        });
      },
    },
  ],
};
