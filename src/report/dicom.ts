/**
 * What the two DICOM exports (Secondary Capture, SEG) share: UIDs, dates, the patient and
 * study modules, and writing a Part-10 file with dcmjs. Patient data appears only when the
 * caller passes the original's kept tags (`serve --keep-dicom-tags`); otherwise the
 * patient module is present but empty (type 2) and the study is a new one of our own.
 */
// dcmjs is plain JavaScript that runs in the browser too; the ban is for decoders with
// native parts, and this file only writes datasets.
// eslint-disable-next-line no-restricted-imports
import dcmjs from 'dcmjs';

/**
 * Tags kept from an uploaded DICOM (names as dcmjs spells them), e.g. `StudyInstanceUID`,
 * `SeriesInstanceUID`, `SOPInstanceUID`, `SOPClassUID`, `PatientName`, `PatientID`.
 */
export type KeptDicomTags = Readonly<Record<string, string>>;

/** The file meta's implementation UID (a UUID-derived root of dentseg's own). */
export const IMPLEMENTATION_UID = '2.25.247395417466294152170893722432785620887';
/** Explicit VR little endian: what the exports are written in. */
export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';

/** Options every export takes. */
export interface ExportCommon {
  /** The analysis id (UUID); the study UID of an export without kept tags derives from it. */
  readonly analysisId: string;
  /** Tags of the uploaded DICOM to file the export with its study; omit for none. */
  readonly source?: KeptDicomTags | undefined;
  /** Time of the export (content date/time). */
  readonly now: Date;
  /** Software version written as SoftwareVersions. */
  readonly softwareVersion: string;
  /** The model's name (and version), e.g. `teeth-binary 1.0.0`. */
  readonly algorithm: string;
}

/** `2.25.<decimal of the UUID>` (PS3.5 B.2): a UID that needs no registered root. */
export function uidFromUuid(uuid: string): string {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${uuid}`);
  return `2.25.${BigInt(`0x${hex}`).toString()}`;
}

/** A new random `2.25.` UID (122 random bits, as a UUID v4). */
export function newUid(): string {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const hex = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return uidFromUuid(hex);
}

/** DICOM DA (YYYYMMDD) and TM (HHMMSS) of a time, in UTC. */
export function dicomDateTime(t: Date): { date: string; time: string } {
  const iso = t.toISOString();
  return { date: iso.slice(0, 10).replace(/-/g, ''), time: iso.slice(11, 19).replace(/:/g, '') };
}

/**
 * Patient, general study and the equipment modules, plus SOP common. Without `source`:
 * empty patient tags and a study UID derived from the analysis id, so the SC and SEG of
 * one analysis share a study.
 */
export function commonModules(
  common: ExportCommon,
  sop: { classUid: string; instanceUid: string },
): Record<string, unknown> {
  const src = common.source ?? {};
  const { date, time } = dicomDateTime(common.now);
  const kept = (name: string): Record<string, string> =>
    src[name] !== undefined && src[name] !== '' ? { [name]: src[name] as string } : {};
  return {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: sop.classUid,
    SOPInstanceUID: sop.instanceUid,
    // Patient (type 2: present, empty unless kept).
    PatientName: src.PatientName ?? '',
    PatientID: src.PatientID ?? '',
    PatientBirthDate: src.PatientBirthDate ?? '',
    PatientSex: src.PatientSex ?? '',
    ...kept('PatientAge'),
    // General study.
    StudyInstanceUID: src.StudyInstanceUID ?? uidFromUuid(common.analysisId),
    StudyDate: src.StudyDate ?? date,
    StudyTime: src.StudyTime ?? time,
    ReferringPhysicianName: src.ReferringPhysicianName ?? '',
    StudyID: src.StudyID ?? '',
    AccessionNumber: src.AccessionNumber ?? '',
    ...kept('StudyDescription'),
    // General series (the rest per export).
    SeriesDate: date,
    SeriesTime: time,
    // General and enhanced general equipment.
    Manufacturer: 'dentseg',
    ManufacturerModelName: 'dentseg',
    DeviceSerialNumber: '1',
    SoftwareVersions: common.softwareVersion,
    ...kept('InstitutionName'),
    // General image / content.
    ContentDate: date,
    ContentTime: time,
    InstanceCreationDate: date,
    InstanceCreationTime: time,
  };
}

/**
 * The original image as a referenced instance, when its UIDs were kept (with its SOP class,
 * else Digital X-Ray for presentation).
 */
export function sourceReference(
  source: KeptDicomTags | undefined,
): { classUid: string; instanceUid: string; seriesUid: string } | undefined {
  if (!source?.SOPInstanceUID || !source.SeriesInstanceUID) return undefined;
  return {
    classUid: source.SOPClassUID || '1.2.840.10008.5.1.4.1.1.1.1',
    instanceUid: source.SOPInstanceUID,
    seriesUid: source.SeriesInstanceUID,
  };
}

/** Write a naturalised data set as a Part-10 file (explicit VR little endian). */
export function writePart10(dataset: Record<string, unknown>): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: EXPLICIT_VR_LE,
    ImplementationClassUID: IMPLEMENTATION_UID,
    ImplementationVersionName: 'DENTSEG',
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}
