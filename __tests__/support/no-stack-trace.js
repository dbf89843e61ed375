// Stands in for cdktf's tokens/private/stack-trace module in tests. cdktf captures a full,
// source-mapped stack trace for every token it creates, only to quote it in certain errors; under
// jest's source maps that is most of the time a synth takes. Tests assert on the output, not on it.
exports.captureStackTrace = () => [];
// cdktn keeps the module but names the function captureCreationStack.
exports.captureCreationStack = () => [];
