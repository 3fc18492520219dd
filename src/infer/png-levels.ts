/**
 * The zlib level of every PNG dentseg writes, chosen per kind of picture from what each
 * costs (one core, 3100×1300 panoramic, sharp/libvips without filtering; bytes in brackets):
 *
 * | picture                       | level 1          | level 2          | level 3          |
 * |-------------------------------|------------------|------------------|------------------|
 * | mask, 0/255                   |  4 ms (69 kB)    |  5 ms (32 kB)    |  4 ms (30 kB)    |
 * | probability, 0…255            | 13 ms (951 kB)   | 18 ms (740 kB)   | 31 ms (684 kB)   |
 * | X-ray, grey                   | 35 ms (3.55 MB)  | 60 ms (2.99 MB)  | 61 ms (2.97 MB)  |
 * | overlay, RGB                  | 45 ms (5.50 MB)  | 90 ms (4.20 MB)  | 115 ms (3.63 MB) |
 *
 * Every grey picture is written with one channel (libvips' default for raw one-band input
 * is RGB with three equal channels: the same values read back, three times the bytes; the
 * server's stored original then took 4.2 MB at level 2 instead of 3.0).
 * Near-binary masks compress hard at no cost; the X-ray pictures are noise-like to zlib, so
 * the higher levels buy a fifth to a third of their size for twice the CPU, and that CPU is
 * what caps how many analyses a machine runs at once. Adaptive filtering (smaller still)
 * costs more than level 3. The pixels are the same at every level.
 */

/** Class-index and 0/255 masks: small at any level, so the smallest. */
export const MASK_PNG_LEVEL = 3;
/** Probability pictures (the page re-thresholds them): level 2 is most of level 3's size. */
export const PROBABILITY_PNG_LEVEL = 2;
/**
 * Full-size X-ray pictures (the stored original, overlays, charts, the set's findings
 * picture): the fast level.
 */
export const PICTURE_PNG_LEVEL = 1;
