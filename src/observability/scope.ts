/**
 * The instrumentation scope taskmill reports under: the meter and tracer name and version that
 * OpenTelemetry attaches to every metric and span we produce.
 */

/** Meter and tracer name. */
export const INSTRUMENTATION_NAME = "taskmill";

/** Meter and tracer version; a test keeps it equal to package.json's version. */
export const INSTRUMENTATION_VERSION = "0.1.0";
