/**
 * Extension point for an optional "private mode (in-browser)": a module at
 * `./private-mode.ts` (owned by the ONNX stage) is picked up at build time if it exists,
 * gets a slot in the toolbar for its toggle, and may take over uploads to segment the
 * X-ray in the browser instead of sending it to the server.
 */
import type { InputQuality } from '../../imaging/quality-words.js';
import type { Fdi } from '../../numbering/fdi.js';
import type { ToothReport } from '../../numbering/teeth.js';
import type { Finding } from './api.js';

/** A result computed in the browser, shown by the same viewer as a server analysis. */
export interface LocalAnalysis {
  readonly filename: string;
  /** The X-ray as 8-bit grey, row-major. */
  readonly grey: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** Probability of the shown class per pixel, 0–255 (binary: foreground). */
  readonly probability: Uint8Array;
  /** The mask at the server's threshold: class index per pixel (binary 0/1), as the server stores it. */
  readonly mask: Uint8Array;
  /** Class index per pixel for multi-class models; undefined for binary. */
  readonly classes?: Uint8Array;
  readonly classNames: readonly string[];
  readonly task: 'binary' | 'multiclass';
  readonly findings: readonly Finding[];
  /** Numbering models: the present teeth and the missing numbers, as the server's analysis has. */
  readonly teeth?: readonly ToothReport[];
  readonly missing?: readonly Fdi[];
  readonly threshold: number;
  readonly elapsedMs: number;
  /**
   * The input check, as the server's analysis carries it: when the image is not a panoramic
   * X-ray, `withheld` is true and `findings`, `teeth` and `missing` are empty.
   */
  readonly quality: InputQuality & { readonly withheld: boolean };
}

/** What the page hands the private-mode module. */
export interface PrivateModeContext {
  /** An empty element in the toolbar for the module's toggle. */
  readonly slot: HTMLElement;
  /** Install (or remove with undefined) a handler that sees every chosen file first; resolve true when handled locally. */
  setUploadInterceptor(handler: ((file: File) => Promise<boolean>) | undefined): void;
  /** Show a locally computed result in the viewer. */
  showLocalResult(result: LocalAnalysis): void;
  /** Show a message in the page's error area. */
  showError(message: string): void;
  /** Show or clear a progress message. */
  showStatus(message: string | undefined): void;
}

/** The shape `./private-mode.ts` must export. */
export interface PrivateModeModule {
  setup(context: PrivateModeContext): void | Promise<void>;
}

/** Load the private-mode module when the build found one; otherwise do nothing. */
export async function loadPrivateMode(context: PrivateModeContext): Promise<boolean> {
  const found = import.meta.glob<PrivateModeModule>('./private-mode.ts');
  const loader = found['./private-mode.ts'];
  if (!loader) return false;
  const mod = await loader();
  await mod.setup(context);
  return true;
}
