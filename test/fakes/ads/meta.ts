/** Moved to src/sources/ads/live/fake-apis (the live demo serves the simulator's ads through them). */
export * from '../../../src/sources/ads/live/fake-apis/meta.js';
