export {FileStorage} from './file-storage.js';
export type {CrashPoint, FileStorageOptions, FileStorageStats} from './file-storage.js';
export {SimulatedCrashError, WalCorruptError, WalExistsError} from './errors.js';
