/**
 * `curves.png`: the seed's three panels (loss, accuracy, Dice; train vs validation per
 * epoch), drawn with chart.js on an off-screen @napi-rs/canvas.
 */
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { BasicPlatform, Chart, registerables, type ChartConfiguration } from 'chart.js';
import type { EpochLogs } from './callbacks.js';

Chart.register(...registerables);

const PANELS = [
  { key: 'loss', title: 'Loss' },
  { key: 'accuracy', title: 'Pixel accuracy' },
  { key: 'dice', title: 'Dice' },
] as const;

/** Panel size in pixels; the PNG is three panels side by side. */
export const PANEL_WIDTH = 480;
export const PANEL_HEIGHT = 360;

function panelConfig(
  history: readonly EpochLogs[],
  key: string,
  title: string,
): ChartConfiguration<'line'> {
  const epochs = history.map((h) => h.epoch ?? 0);
  const series = (k: string): (number | null)[] =>
    history.map((h) => (Number.isFinite(h[k]) ? (h[k] as number) : null));
  return {
    type: 'line',
    data: {
      labels: epochs,
      datasets: [
        {
          label: 'train',
          data: series(key),
          borderColor: '#1f77b4',
          backgroundColor: '#1f77b4',
          pointRadius: 2,
        },
        {
          label: 'validation',
          data: series(`val_${key}`),
          borderColor: '#ff7f0e',
          backgroundColor: '#ff7f0e',
          pointRadius: 2,
        },
      ],
    },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      plugins: { title: { display: true, text: title }, legend: { position: 'bottom' } },
      scales: { x: { title: { display: true, text: 'epoch' } } },
    },
  };
}

/** Render the three panels for the epochs so far as PNG bytes. */
export async function renderCurves(history: readonly EpochLogs[]): Promise<Buffer> {
  const out = createCanvas(PANEL_WIDTH * PANELS.length, PANEL_HEIGHT);
  const ctx = out.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  PANELS.forEach((p, i) => {
    const canvas = createCanvas(PANEL_WIDTH, PANEL_HEIGHT);
    const pctx: SKRSContext2D = canvas.getContext('2d');
    const chart = new Chart(pctx as unknown as CanvasRenderingContext2D, {
      ...panelConfig(history, p.key, p.title),
      platform: BasicPlatform,
    });
    chart.draw();
    ctx.drawImage(canvas, i * PANEL_WIDTH, 0);
    chart.destroy();
  });
  return out.encode('png');
}
