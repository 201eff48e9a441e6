import { defineConfig } from "vite";

// No React plugin: JSX is compiled by Vite's own transformer with the automatic runtime, and
// the studio needs no fast refresh. Output goes into the Python package, served by the studio.
export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    outDir: "../src/scenarist_studio/static",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
});
