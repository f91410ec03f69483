/** The fake node's chain shape, shared by the node process and the bench without loading the node's encoders. */
export const LOGS_PER_BLOCK = 10;
/** Distinct accounts sending the precompile inference transactions. */
export const CALLERS = 50_000;
