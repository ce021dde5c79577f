export {checkKvHistory, DEFAULT_MAX_STEPS} from './linearizability.js';
export type {CheckOptions, CheckResult, KvInput, KvOutput, Operation} from './linearizability.js';
export {kvModel} from './kv-model.js';
export type {KvState, SequentialModel} from './kv-model.js';
export {searchLinearization} from './search.js';
export type {Budget, SearchOp, SearchOutcome} from './search.js';
