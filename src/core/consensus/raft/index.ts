export {RawNode, ProposalDroppedError} from './raw-node.js';
export {MemoryStorage} from './memory-storage.js';
export {encodeConfChange, decodeConfChange} from './conf-change.js';
export * from './types.js';
