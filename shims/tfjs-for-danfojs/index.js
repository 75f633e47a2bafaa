// danfojs-node asks for tfjs-node; give it the project's tfjs so both share one tfjs-core and backend.
module.exports = require("@tensorflow/tfjs");
