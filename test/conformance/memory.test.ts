/** The conformance suite against the in-process store (the default). */
import { runConformanceSuite } from "./suite.js";

runConformanceSuite({
  name: "memory",
  durable: false,
  setup: async () => {},
  teardown: async () => {},
  // Every manager is its own store: each call is an isolated namespace.
  backend: () => ({ type: "memory" }),
});
