// Builds the dashboard and the partner portal into public/ (served by Workers Static
// Assets): the pages, one bundled script each (Preact, htm, uPlot and the QR code
// generator come from node_modules, pinned in package-lock.json: nothing from a CDN),
// and one stylesheet. Run by scripts/build.sh; `--check` only reports whether public/ is
// up to date.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const web = join(root, "web");
const out = join(root, "public");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });
await build({
  entryPoints: { dashboard: join(web, "src/dashboard/main.js"), portal: join(web, "src/portal/main.js") },
  outdir: join(out, "assets"),
  bundle: true,
  format: "esm",
  splitting: true,
  minify: true,
  sourcemap: true,
  target: ["chrome110", "firefox110", "safari16"],
  chunkNames: "chunk-[hash]",
  logLevel: "warning",
});
const css = [
  readFileSync(join(root, "node_modules/uplot/dist/uPlot.min.css"), "utf8"),
  readFileSync(join(web, "styles.css"), "utf8"),
].join("\n");
writeFileSync(join(out, "assets/app.css"), css);
copyFileSync(join(web, "dashboard.html"), join(out, "dashboard.html"));
copyFileSync(join(web, "portal.html"), join(out, "portal.html"));
copyFileSync(join(web, "favicon.svg"), join(out, "assets/favicon.svg"));
console.error("partnerlens: built the dashboard and the portal into public/");
