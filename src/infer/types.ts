/**
 * The inference contract other stages build on (server, ONNX runtime, web): an engine that
 * turns pre-processed input into probabilities, a loaded model, and the plain-data result
 * of `segment`.
 */
import type { ModelMeta } from '../model/index.js';
import type { Fdi, NumberingMode, NumberingResult, ToothReport } from '../numbering/index.js';
import type { Finding } from '../imaging/findings.js';
import type { InputQuality } from '../imaging/panoramic.js';
import type { DicomInfo } from '../imaging/types.js';

export type { Finding } from '../imaging/findings.js';

/**
 * Name of an inference engine, as registered (Node registers `tfjs` and `onnx`; the
 * registry in `engines.ts` maps names to factories and knows none itself).
 */
export type EngineName = string;

/**
 * Runs the network on pre-processed input. Implementations: `tfjsEngine` (./tfjs-engine.ts)
 * and `ortSessionEngine` (./ort-engine.ts, for onnxruntime-node and onnxruntime-web). `run` never keeps references to its input.
 */
export interface InferenceEngine {
  readonly name: EngineName;
  /**
   * Forward pass. `input` is NHWC float32, `batch*h*w*c` values; resolves to
   * `batch*h*w*k` probabilities (k = 1 binary sigmoid, K softmax) in 0…1.
   */
  run(input: Float32Array, batch: number, h: number, w: number, c: number): Promise<Float32Array>;
  /** Free the engine's resources (weights, sessions). */
  dispose(): void;
  /** What computes, when the engine knows it itself (the onnx engine: `onnxruntime-node`). */
  readonly backend?: string;
  /** Threads it computes with, when the engine knows (≥ 1). */
  readonly threads?: number;
}

/**
 * One model ready to run: its validated dentseg.json and an engine. A `LoadedModel` is one,
 * and so is the page's downloaded model.
 */
export interface SetMember {
  readonly meta: ModelMeta;
  readonly engine: InferenceEngine;
}

/** A model folder loaded for inference. */
export interface LoadedModel extends SetMember {
  /** The folder it came from (absolute). */
  readonly dir: string;
  /**
   * What computes the engine: the TensorFlow.js backend (`torch`, `wasm`, …) for the tfjs
   * engine, `onnxruntime-node` for the onnx engine. Absent for models assembled by hand.
   */
  readonly backend?: string;
  /** Threads it computes with (≥ 1), when known. */
  readonly threads?: number;
  /** Dispose the engine (and its weights). */
  dispose(): void;
}

/**
 * What one analysis of an X-ray asks for, whether one model runs (`segment`, the page's
 * private mode) or a set (`runModelSet`): defined once so that both read the same options
 * the same way (./check-and-run.ts).
 */
export interface InferOptions {
  /**
   * Binary models: probability at or above which a pixel is foreground (0…1; default each
   * model's `postprocess.threshold`, else 0.5). Multi-class models use the arg-max and ignore it.
   */
  readonly threshold?: number;
  /** Test-time augmentation: average the prediction with that of the horizontally flipped image (two forward passes in one batch). */
  readonly tta?: boolean;
  /** Compute findings and teeth (default true; `evaluate` turns them off). */
  readonly findings?: boolean;
  /** Minimum region area in pixels for findings (default: each model's `postprocess.minAreaPx`, else `defaultMinArea`). */
  readonly minAreaPx?: number;
  /**
   * Numbering models (FDI classes): the anatomical steps to run, overriding the model's
   * `postprocess.numbering` (see `NUMBERING_MODES`; ignored by other models).
   */
  readonly numbering?: NumberingMode;
  /**
   * Check the input (panoramic dental X-ray or not, and its problems; `SegmentResult.quality`).
   * Default: on whenever findings are (`evaluate` turns both off).
   */
  readonly quality?: boolean;
  /**
   * Withhold findings, teeth and missing numbers (leave them empty) when the check says the
   * input is not a panoramic X-ray. Default false here; `dentseg predict` and the server
   * turn it on unless `--force`.
   */
  readonly withholdIfNotPanoramic?: boolean;
  /**
   * Tiled models: run only the tiles near these pixels ({@link TileFocus}); the others'
   * probabilities are 0. Default: every tile. A set gives each lesion model with a tooth
   * gate its teeth by itself.
   */
  readonly focus?: TileFocus;
}

/**
 * Where a tiled model's findings can be: a set's lesion model with a tooth gate keeps only
 * regions that touch the teeth, so the tiles far from every tooth (sinus, ramus, the image's
 * corners: a third of a panoramic's) need not run at all.
 */
export interface TileFocus {
  /** Non-zero = a pixel to look near (the teeth), `width*height`, at its own size. */
  readonly mask: Uint8Array;
  readonly width: number;
  readonly height: number;
  /**
   * How far from `mask` a finding can still count, in `mask`'s pixels (the gate's margin).
   * A tile runs when `mask` grown by this reaches into its central part (the tile less half
   * the overlap on each side): every pixel within reach keeps a tile that sees it whole,
   * and a region leaving the reach is cut where no run tile covers it.
   */
  readonly reachPx: number;
}

/** Options of `segment`. */
export interface SegmentOptions extends InferOptions {
  /** A name for error messages when `input` is a Buffer (e.g. the upload's file name). */
  readonly name?: string;
}

/** Overlay rendering options. */
export interface OverlayOptions {
  /** Fill opacity 0…1 (default 0.4). */
  readonly opacity?: number;
  /** `fill`, `outline` or `both` (default). */
  readonly mode?: 'fill' | 'outline' | 'both';
}

/** Stages timed by `segment`, in milliseconds. */
export type SegmentStage =
  'decode' | 'quality' | 'preprocess' | 'forward' | 'restore' | 'postprocess' | 'findings';

/** The plain data every segmentation gives (the pipeline's result, and `segment`'s). */
export interface Segmentation {
  /** Original image size in pixels. */
  readonly width: number;
  readonly height: number;
  /** The model's class names (binary: the target; multi-class: index 0 = background). */
  readonly classes: readonly string[];
  readonly task: 'binary' | 'multiclass';
  /** `width*height`: binary 0/1 (written as a 0/255 PNG), multi-class the class index. */
  readonly mask: Uint8Array;
  /**
   * `width*height*k` probabilities in 0…1 (k = 1 binary, K multi-class), pixel-interleaved.
   * For numbering models they are restored to this size on first read only.
   */
  readonly probabilities: Float32Array;
  /**
   * Numbering models only: the post-processed teeth at the network's input size (the
   * class map there, each present tooth, the missing numbers and what was changed).
   * `mask` is that class map brought back to the original size.
   */
  readonly numbering?: NumberingResult;
  /** Connected regions per class, specks dropped (see `defaultMinArea`). */
  readonly findings: Finding[];
  /**
   * Numbering models (unless findings are off): each present tooth at the original size,
   * ascending by FDI number; a tooth is present when its number kept at least the model's
   * `postprocess.minToothPx` pixels at the network's size after post-processing.
   */
  readonly teeth?: readonly ToothReport[];
  /** Numbering models: the permanent FDI numbers (11–48) not found, ascending. */
  readonly missing?: readonly Fdi[];
  /** The threshold applied (binary models; multi-class masks are the arg-max). */
  readonly threshold: number;
  readonly tta: boolean;
}

/** What `segment` returns: typed plain data at the original image size, and pictures. */
export interface SegmentResult extends Segmentation {
  /** Wall time of the whole call in ms. */
  readonly elapsedMs: number;
  readonly timings: Readonly<Record<SegmentStage, number>>;
  /** Bit depth of the decoded input (8 or 16). */
  readonly bitDepth: 8 | 16;
  /** Present when the input was DICOM. Its `patientTags` must not be logged unless asked. */
  readonly dicom?: DicomInfo;
  /** The input check (unless turned off): panoramic or not, a score 0…1 and the issues. */
  readonly quality?: InputQuality;
  /**
   * Whether findings, teeth and missing numbers were withheld (empty) because the input is
   * not a panoramic X-ray and `withholdIfNotPanoramic` was asked for.
   */
  readonly withheld?: boolean;
  /** The X-ray with the mask drawn over it, as a PNG at the original size. */
  overlay(opts?: OverlayOptions): Promise<Buffer>;
  /**
   * Numbering models: the chart PNG at the original size (each tooth's number at its
   * centre, a colour per tooth type, the missing numbers listed).
   */
  chart?(): Promise<Buffer>;
}
