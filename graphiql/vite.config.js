import { defineConfig } from 'vite';

// Served by `ctrlgraph serve` under /graphiql/.
export default defineConfig({
  base: '/graphiql/',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 4096 },
});
