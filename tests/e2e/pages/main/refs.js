// Page side of workers/refs.js: garbage collection and stats of the page's
// end of the channel.
const tick = () => new Promise((r) => setTimeout(r, 1));

export function setup({ worker }) {
  worker.sync.gcMain = async () => {
    for (let i = 0; i < 2; i++) {
      window.gc();
      await tick();
    }
    return worker.stats();
  };
  worker.sync.mainStats = () => worker.stats();
}
