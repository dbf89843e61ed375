module.exports = require("./synth-cache.cjs").teardown;
