module.exports = require("./synth-cache.cjs").setup;
