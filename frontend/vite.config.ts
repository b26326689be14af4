// Builds the studio into the Python package's static folder, served by `runhistory server` at /.
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// Relative to this folder (the project root of the build).
const outDir = "../src/runhistory/server/static";

export default defineConfig({
  base: "./",
  plugins: [preact()],
  build: {
    outDir,
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    sourcemap: false,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:5000" },
  },
});
