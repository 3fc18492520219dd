/**
 * The robustness chart: one panel per data set, pooled Dice per degradation and level as
 * bars (one colour per enhancement mode) against a dashed line at the clean score.
 */
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { BasicPlatform, Chart, registerables, type ChartConfiguration } from 'chart.js';

Chart.register(...registerables);

/** One bar: a degradation spec, the enhancement mode and the pooled Dice. */
export interface RobustnessPoint {
  readonly spec: string;
  readonly enhance: string;
  readonly dice: number;
}

/** One panel's data. */
export interface RobustnessPanel {
  readonly title: string;
  /** Clean pooled Dice per enhancement mode. */
  readonly clean: Readonly<Record<string, number>>;
  readonly points: readonly RobustnessPoint[];
}

const WIDTH = 900;
const HEIGHT = 420;
const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd'];

function panelConfig(panel: RobustnessPanel, yMin: number): ChartConfiguration {
  const specs = [...new Set(panel.points.map((p) => p.spec))];
  const modes = Object.keys(panel.clean);
  const bars = modes.map((mode, i) => ({
    type: 'bar' as const,
    label: `enhance ${mode}`,
    data: specs.map(
      (s) => panel.points.find((p) => p.spec === s && p.enhance === mode)?.dice ?? null,
    ),
    backgroundColor: COLOURS[i % COLOURS.length]!,
  }));
  const lines = modes.map((mode, i) => ({
    type: 'line' as const,
    label: `clean, enhance ${mode} (${panel.clean[mode]!.toFixed(3)})`,
    data: specs.map(() => panel.clean[mode]!),
    borderColor: COLOURS[i % COLOURS.length]!,
    borderDash: [6, 4],
    borderWidth: 1.5,
    pointRadius: 0,
  }));
  return {
    type: 'bar',
    data: { labels: specs, datasets: [...bars, ...lines] },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      plugins: {
        title: { display: true, text: panel.title },
        legend: { position: 'bottom' },
      },
      scales: {
        y: { min: yMin, max: 1, title: { display: true, text: 'pooled Dice' } },
        x: { ticks: { autoSkip: false, maxRotation: 60, minRotation: 45 } },
      },
    },
  } as ChartConfiguration;
}

/** Render the panels stacked vertically as PNG bytes. */
export async function renderRobustness(panels: readonly RobustnessPanel[]): Promise<Buffer> {
  const all = panels.flatMap((p) => [...p.points.map((q) => q.dice), ...Object.values(p.clean)]);
  const yMin = Math.max(0, Math.floor((Math.min(...all) - 0.05) * 10) / 10);
  const out = createCanvas(WIDTH, HEIGHT * panels.length);
  const ctx = out.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  panels.forEach((panel, i) => {
    const canvas = createCanvas(WIDTH, HEIGHT);
    const pctx: SKRSContext2D = canvas.getContext('2d');
    const chart = new Chart(pctx as unknown as CanvasRenderingContext2D, {
      ...panelConfig(panel, yMin),
      platform: BasicPlatform,
    });
    chart.draw();
    ctx.drawImage(canvas, 0, i * HEIGHT);
    chart.destroy();
  });
  return out.encode('png');
}
