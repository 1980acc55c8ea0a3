// The SDK as one browser ES module, dist/browser/sdk.js: what the server serves at /sdk.js for
// pages without a bundler (`import { Tabgrid } from 'https://your-server/sdk.js'`). Everything it
// imports (the protocol, socket.io-client, TypeBox) is inside; nothing is left as a bare
// specifier a browser could not resolve.
import { defineConfig } from 'vite';

// Local runs (`new Tabgrid({ local })`) need Node's worker threads. The SDK loads their engine by
// a dynamic import; in the browser bundle that import resolves to this stub, so the bundle stays
// one file and a page that asks for a local run is told why it cannot have one.
const LOCAL_ENGINE = /[\\/]local[\\/]local-connection\.(js|ts)$/;
const NO_LOCAL_RUNS = '\0tabgrid-no-local-runs';
const noLocalRuns = {
  name: 'tabgrid-no-local-runs',
  enforce: 'pre',
  async resolveId(source, importer, options) {
    if (!source.includes('local-connection')) return null;
    const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
    return resolved && LOCAL_ENGINE.test(resolved.id) ? NO_LOCAL_RUNS : null;
  },
  load(id) {
    if (id !== NO_LOCAL_RUNS) return null;
    return `export class LocalConnection {
  constructor() {
    throw new Error('Local runs (new Tabgrid({ local })) need Node worker threads: run them in Node, or connect this page to a server with new Tabgrid({ url, token }).');
  }
}`;
  },
};

export default defineConfig({
  plugins: [noLocalRuns],
  // A library build: no index.html, no public/ folder, no process.env left for the browser.
  publicDir: false,
  define: { 'process.env.NODE_ENV': '"production"' },
  build: {
    outDir: 'dist/browser',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    minify: true,
    lib: {
      entry: 'src/index.ts',
      formats: ['es'],
      fileName: () => 'sdk.js',
    },
    // One file: a page imports /sdk.js and nothing else (the replay engine comes along inline).
    rolldownOptions: { output: { codeSplitting: false } },
  },
});
