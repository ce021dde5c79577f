export {atomicWriteFile} from './atomic-file.js';
export {FaultHalt, InjectedFault, TXN_FAULT_STEPS} from './fault.js';
export type {TxnFaultStep} from './fault.js';
export {TXN_DIR} from './paths.js';
export {recoverTransactions} from './recover.js';
export type {RecoverOptions, RecoveryReport} from './recover.js';
export {runTransaction, StateTransaction} from './transaction.js';
export type {CommitResult, TxnOptions, WriteOptions} from './transaction.js';
export {FileSyncer} from './sync-files.js';
