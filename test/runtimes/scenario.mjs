// The one seeded scenario every runtime runs (Node, Deno, Bun, workerd, edge-runtime, Chromium
// pages built by Vite, esbuild and webpack): pruneLayer on a 200×20→10 ReLU layer, a parallel
// pruneNetwork on a 20-16-8-4 Dense network, and the sparse runtime (loadModel, predict) on pruned
// bundled models. Plain JavaScript with no imports: the runtime's snippet passes in the net-trim
// functions it imported and the models (runtime-models.mjs). Returns FNV-1a hashes of the weight
// bytes and predictions (compared with Node's), the predictions themselves, the statuses, what
// ran where and the measured milliseconds.

/** mulberry32 uniform [0, 1). */
function uniform(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal numbers (Box–Muller), rounded to f32 on storage. */
function gaussian(seed) {
  const u = uniform(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** act(x·W + b), accumulated in f64, stored f32. */
function dense(x, P, N, M, w, b, relu) {
  const y = new Float32Array(P * M);
  for (let p = 0; p < P; p++) {
    for (let m = 0; m < M; m++) {
      let z = b[m];
      for (let n = 0; n < N; n++) z += x[p * N + n] * w[n * M + m];
      y[p * M + m] = relu && z < 0 ? 0 : z;
    }
  }
  return y;
}

function randomWeights(g, u, n, density) {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = u() < density ? g() : 0;
  return w;
}

/** FNV-1a (32 bit) over the bytes of the given typed arrays, as 8 hex digits. */
export function fnv1a(arrays) {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let i = 0; i < bytes.length; i++) {
      h ^= bytes[i];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h.toString(16).padStart(8, "0");
}

/** The seeded layer: [200, 20] Gaussian inputs, a 30%-dense 20×10 ReLU layer. */
export function scenarioLayer() {
  const P = 200, N = 20, M = 10;
  const g = gaussian(2024), u = uniform(2025);
  const input = new Float32Array(P * N).map(() => g());
  const w = randomWeights(g, u, N * M, 0.3);
  const b = new Float32Array(M).map(() => 0.1 * g());
  return { P, N, M, input, output: dense(input, P, N, M, w, b, true) };
}

/** The seeded network: 20-16-8-4 Dense (relu, relu, linear), as parseLayersModel returns one, and 300 calibration samples. */
export function scenarioNetwork() {
  const sizes = [20, 16, 8, 4];
  const g = gaussian(7), u = uniform(8);
  const layers = [];
  for (let i = 0; i < sizes.length - 1; i++) {
    const inputs = sizes[i], units = sizes[i + 1];
    const kernel = new Float32Array(inputs * units).map(() => (u() < 0.7 ? g() / Math.sqrt(inputs) : 0));
    const bias = new Float32Array(units).map(() => 0.05 * g());
    layers.push({ name: `dense_${i + 1}`, activation: i < sizes.length - 2 ? "relu" : "linear", kernel, bias, useBias: true, inputs, units });
  }
  const P = 300;
  const input = new Float32Array(P * sizes[0]).map(() => g());
  return { network: { layers, inputSize: sizes[0] }, input, P };
}

/** Bytes from base64 (atob: in every runtime here, no Buffer). */
function fromBase64(text) {
  const s = atob(text);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

/** Each model of runtime-models.mjs loaded by the sparse runtime (`options`: how to find its wasm) and run on the digits. */
async function runRuntimeScenario(loadModel, models, options) {
  const digits = new Float32Array(fromBase64(models.digits).buffer);
  const out = [];
  for (const m of models.models) {
    const source = m.form === "ntz" ? fromBase64(m.bytes) : { modelJson: m.modelJson, weightData: fromBase64(m.weightData).buffer };
    const t = performance.now();
    const model = await loadModel(source, options);
    const y = model.predict(digits, models.batch);
    const ms = performance.now() - t;
    out.push({ name: m.name, form: m.form, simd: model.simd, kernels: model.layers.map((l) => l.kernel), hash: fnv1a([y]), output: Array.from(y), ms: round(ms) });
    model.dispose();
  }
  return out;
}

/**
 * Runs the scenario with the functions the snippet imported from net-trim.
 * `workers`: pool workers for pruneNetwork (undefined: the library's default);
 * `parts`: which of "layer", "network" and "runtime" to run (default all three, the last only when `models` is given);
 * `models`: runtime-models.mjs's export; `runtime`: loadModel's options (module or url of the runtime's wasm).
 */
export async function runScenario({ pruneLayer, pruneNetwork, matrix, loadModel }, { workers, models, runtime = {}, parts = models ? ["layer", "network", "runtime"] : ["layer", "network"] } = {}) {
  const out = {};
  if (parts.includes("layer")) {
    const layer = scenarioLayer();
    const t = performance.now();
    const r = await pruneLayer(matrix(layer.input, layer.P, layer.N), matrix(layer.output, layer.P, layer.M), { epsilonGain: 0.05 });
    const ms = performance.now() - t;
    out.layer = { hash: fnv1a([r.weights, r.bias]), status: r.status, iterations: r.info.iterations, nnz: r.info.nnz, simd: r.info.simd, ms: round(ms) };
  }
  if (parts.includes("network")) {
    const net = scenarioNetwork();
    const t = performance.now();
    const n = await pruneNetwork(net.network, matrix(net.input, net.P, net.network.inputSize), {
      mode: "parallel",
      epsilonGain: 0.05,
      ...(workers === undefined ? {} : { workers }),
    });
    const ms = performance.now() - t;
    out.network = {
      hash: fnv1a(n.network.layers.flatMap((l) => [l.kernel, l.bias])),
      status: n.status,
      layers: n.layers.map((l) => ({ status: l.status, iterations: l.iterations, simd: l.info.simd })),
      execution: n.execution,
      ms: round(ms),
    };
  }
  if (parts.includes("runtime")) out.runtime = await runRuntimeScenario(loadModel, models, runtime);
  return out;
}

const round = (ms) => Math.round(ms * 10) / 10;
