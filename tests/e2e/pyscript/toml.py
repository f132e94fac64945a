# A worker whose config is TOML: the worker parses it with polyscript's TOML
# parser, which it imports on demand (demo/.build/pyscript/wb/worker-toml.js,
# xtask/pyscript.mjs), and writes config.files into its file system.
from pyscript import window

with open("./data.txt") as f:
    window.report("toml", f.read().strip())
window.report("done", True)
