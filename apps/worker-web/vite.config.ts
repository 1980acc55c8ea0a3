import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { workerPageCsp } from '@tabgrid/protocol/worker';

// The server serves dist/ at `/`; in dev, the socket paths go to a server on its default port.
const server = 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  server: {
    // The policy job threads inherit (see workerPageCsp), so the dev server keeps them off the
    // network too.
    headers: { 'Content-Security-Policy': workerPageCsp(true) },
    proxy: {
      '/ws': { target: server, ws: true },
      '/socket.io': { target: server, ws: true },
    },
  },
  preview: {
    headers: { 'Content-Security-Policy': workerPageCsp() },
    proxy: {
      '/ws': { target: server, ws: true },
      '/socket.io': { target: server, ws: true },
    },
  },
});
