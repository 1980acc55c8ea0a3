import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The server serves dist/ at `/`; in dev, the socket paths go to a server on its default port.
const server = 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/ws': { target: server, ws: true },
      '/socket.io': { target: server, ws: true },
    },
  },
  preview: {
    proxy: {
      '/ws': { target: server, ws: true },
      '/socket.io': { target: server, ws: true },
    },
  },
});
