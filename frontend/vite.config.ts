// Two builds from the same components:
//   vite build                -> the studio, into the Python package's static folder (served at /)
//   vite build --mode widget  -> the notebook widget's module (anywidget), one ES file
import preact from "@preact/preset-vite";
import { defineConfig, type UserConfig } from "vite";

// Relative to this folder (the project root of the build).
const studioDir = "../src/runhistory/server/static";
const widgetDir = "../src/runhistory/widgets/static";

const studio: UserConfig = {
  base: "./",
  plugins: [preact()],
  build: {
    outDir: studioDir,
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    sourcemap: false,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:5000" },
  },
};

// An app build (not a library build) so the module is minified; its one export is kept.
const widget: UserConfig = {
  base: "./",
  plugins: [preact()],
  build: {
    outDir: widgetDir,
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    sourcemap: false,
    modulePreload: false,
    rollupOptions: {
      input: "src/widget/index.tsx",
      preserveEntrySignatures: "exports-only",
      output: { format: "es", entryFileNames: "run_details.js", inlineDynamicImports: true },
    },
  },
};

export default defineConfig(({ mode }) => (mode === "widget" ? widget : studio));
