// Vite builds the investigation page into dist/, which `ctrlgraph serve` serves at `/`.
// `npm run dev` proxies the API to a server started separately (CTRLGRAPH_API, default :8080).
import { defineConfig } from "vite";

const api = process.env.CTRLGRAPH_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: { proxy: { "/graphql": api } },
});
