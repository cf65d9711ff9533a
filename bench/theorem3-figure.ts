// The Theorem 3 phase-transition figure as a hand-written SVG (no plotting dependency).

export interface FigureData {
  N: number;
  sparsities: number[];
  samples: number[];
  /** probability[i][j]: share of seeds recovered at sparsities[i], samples[j]. */
  probability: number[][];
  /** The fitted curve P = C·s·ln(N/s). */
  C: number;
  /** The 50% crossing per sparsity (NaN when not crossed on the grid). */
  halfway: number[];
  seeds: number;
  threshold: number;
}

const W = 640, H = 420, LEFT = 60, RIGHT = 150, TOP = 44, BOTTOM = 50;

/** Gray level of a probability: white = never recovered, black = always. */
function shade(p: number): string {
  const v = Math.round(255 * (1 - p));
  return `rgb(${v},${v},${v})`;
}

export function theorem3Svg(d: FigureData): string {
  const plotW = W - LEFT - RIGHT, plotH = H - TOP - BOTTOM;
  const dP = d.samples[1] - d.samples[0];
  const pMin = d.samples[0] - dP / 2, pMax = d.samples[d.samples.length - 1] + dP / 2;
  const sMin = d.sparsities[0] - 0.5, sMax = d.sparsities[d.sparsities.length - 1] + 0.5;
  const x = (P: number) => LEFT + ((P - pMin) / (pMax - pMin)) * plotW;
  const y = (s: number) => TOP + plotH - ((s - sMin) / (sMax - sMin)) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12" shape-rendering="crispEdges">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${LEFT}" y="16" font-size="14">Exact recovery of an s-sparse ReLU neuron from P Gaussian samples (Theorem 3)</text>`);
  out.push(`<text x="${LEFT}" y="32">N = ${d.N}, ε = 0, no bias, ${d.seeds} seeds per cell; recovered: ‖ŵ − w‖/‖w‖ ≤ ${d.threshold}</text>`);
  d.sparsities.forEach((s, i) => d.samples.forEach((P, j) => {
    const x0 = x(P - dP / 2), y0 = y(s + 0.5);
    out.push(`<rect x="${x0.toFixed(1)}" y="${y0.toFixed(1)}" width="${(x(P + dP / 2) - x0).toFixed(1)}" height="${(y(s - 0.5) - y0).toFixed(1)}" fill="${shade(d.probability[i][j])}"/>`);
  }));
  // The fitted curve, drawn across the grid's sparsities.
  const curve: string[] = [];
  for (let s = sMin; s <= sMax + 1e-9; s += 0.25) {
    const P = d.C * s * Math.log(d.N / s);
    if (P >= pMin && P <= pMax) curve.push(`${x(P).toFixed(1)},${y(s).toFixed(1)}`);
  }
  out.push(`<polyline points="${curve.join(" ")}" fill="none" stroke="#d62728" stroke-width="2.5" shape-rendering="geometricPrecision"/>`);
  d.sparsities.forEach((s, i) => {
    if (Number.isFinite(d.halfway[i])) out.push(`<circle cx="${x(d.halfway[i]).toFixed(1)}" cy="${y(s).toFixed(1)}" r="3.5" fill="#1f77b4" stroke="white"/>`);
  });
  // Axes and ticks.
  out.push(`<rect x="${LEFT}" y="${TOP}" width="${plotW}" height="${plotH}" fill="none" stroke="black"/>`);
  for (const P of d.samples) {
    if (P % 20 !== 0) continue;
    out.push(`<line x1="${x(P).toFixed(1)}" y1="${TOP + plotH}" x2="${x(P).toFixed(1)}" y2="${TOP + plotH + 5}" stroke="black"/>`);
    out.push(`<text x="${x(P).toFixed(1)}" y="${TOP + plotH + 18}" text-anchor="middle">${P}</text>`);
  }
  for (const s of d.sparsities) {
    out.push(`<line x1="${LEFT - 5}" y1="${y(s).toFixed(1)}" x2="${LEFT}" y2="${y(s).toFixed(1)}" stroke="black"/>`);
    out.push(`<text x="${LEFT - 8}" y="${(y(s) + 4).toFixed(1)}" text-anchor="end">${s}</text>`);
  }
  out.push(`<text x="${LEFT + plotW / 2}" y="${H - 12}" text-anchor="middle">samples P</text>`);
  out.push(`<text transform="translate(18 ${TOP + plotH / 2}) rotate(-90)" text-anchor="middle">nonzeros s</text>`);
  // Legend: the gray scale and the two overlays.
  const lx = W - RIGHT + 20;
  for (let k = 0; k <= 10; k++) {
    out.push(`<rect x="${lx}" y="${(TOP + 10 + (10 - k) * 14).toFixed(1)}" width="16" height="14" fill="${shade(k / 10)}" stroke="#999" stroke-width="0.5"/>`);
    if (k % 5 === 0) out.push(`<text x="${lx + 22}" y="${(TOP + 21 + (10 - k) * 14).toFixed(1)}">${k / 10}</text>`);
  }
  out.push(`<text x="${lx}" y="${TOP + 4}">P(recovery)</text>`);
  out.push(`<line x1="${lx}" y1="${TOP + 190}" x2="${lx + 20}" y2="${TOP + 190}" stroke="#d62728" stroke-width="2.5"/>`);
  out.push(`<text x="${lx}" y="${TOP + 208}">P = ${d.C.toFixed(2)}·s·ln(N/s)</text>`);
  out.push(`<circle cx="${lx + 10}" cy="${TOP + 228}" r="3.5" fill="#1f77b4"/>`);
  out.push(`<text x="${lx}" y="${TOP + 248}">50% crossing</text>`);
  out.push("</svg>");
  return out.join("\n") + "\n";
}
