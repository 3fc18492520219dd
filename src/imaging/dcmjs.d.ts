/**
 * The small part of dcmjs (which ships no types) that dentseg uses: read a Part-10 file into
 * a naturalised dataset, and write one (tests build DICOM files from sample PNGs).
 */
declare module 'dcmjs' {
  interface DicomDictLike {
    meta: Record<string, unknown>;
    dict: Record<string, unknown>;
    write(options?: Record<string, unknown>): ArrayBuffer;
  }
  const dcmjs: {
    data: {
      DicomMessage: {
        readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): DicomDictLike;
      };
      DicomMetaDictionary: {
        naturalizeDataset(dict: Record<string, unknown>): Record<string, unknown>;
        denaturalizeDataset(dataset: Record<string, unknown>): Record<string, unknown>;
        uid(): string;
      };
      DicomDict: new (meta: Record<string, unknown>) => DicomDictLike;
    };
    log: { setLevel(level: string): void };
  };
  export default dcmjs;
}
